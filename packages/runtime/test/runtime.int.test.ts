import { encodeEvent, subscribe } from "@whiteslip/bus";
import { z } from "@whiteslip/config";
import { creditreporting, Topics } from "@whiteslip/contracts";
import { invalidArgument } from "@whiteslip/core";
import { checkHealth, createClient, LIVENESS, READINESS, service } from "@whiteslip/grpc";
import { insertOnce } from "@whiteslip/store";
import { kafkaEnv, testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { describe, expect, it } from "vitest";
import { startService } from "../src/index";

describe("startService", () => {
  it("wires config, database, consumers, outbox and gRPC, and stops gracefully", async () => {
    const scope = testScope("runtime-int");
    const { mongoUri, topicPrefix } = scope;
    const db = uniqueName("runtime");
    const accountId = uniqueName("acc");
    let termHolds = true;
    const svc = await startService({
      name: "runtime-test",
      configShape: { GROUP: z.string() },
      env: {
        ...kafkaEnv(scope),
        MONGODB_URI: mongoUri,
        MONGODB_DB: db,
        TOPIC_PREFIX: topicPrefix,
        // in-process, plaintext: the explicit development flag (mutual TLS is proven by the attack suite)
        GRPC_PLAINTEXT_DEV: "1",
        GRPC_PORT: "0",
        LOG_LEVEL: "silent",
        GROUP: uniqueName("runtime-group"),
      },
      readinessIntervalMs: 100,
      setup: async ({ config, store }) => {
        const seen = store.db.collection<{ _id: string; dpd: number }>("seen");
        return {
          readiness: [{ name: "test-term", check: async () => termHolds }],
          grpc: [
            service(creditreporting.CreditReportingService, {
              getCreditScore: async (req) => {
                if (!req.accountId) throw invalidArgument([{ field: "account_id", description: "is required" }]);
                return { accountId: req.accountId, score: (await seen.countDocuments({ _id: req.accountId })) ? 600 : 650 };
              },
            }),
          ],
          consumers: [
            {
              groupId: config.GROUP,
              subscriptions: [
                subscribe(Topics.Overdue, async (e) => {
                  if (e.key === accountId) await insertOnce(seen, { _id: e.data.accountId, dpd: e.data.daysPastDue });
                }),
              ],
            },
          ],
        };
      },
    });
    const client = createClient(creditreporting.CreditReportingService, `127.0.0.1:${svc.grpcPort}`);
    try {
      expect((await client.getCreditScore({ accountId })).score).toBe(650);
      await expect(client.getCreditScore({ accountId: "" })).rejects.toMatchObject({
        code: 3,
        violations: [{ field: "account_id", description: "is required" }],
      });
      await svc.context.bus.publish([
        encodeEvent(Topics.Overdue, { id: uniqueName("ev"), key: accountId, time: new Date(), data: { accountId, customerId: `cus-${accountId}`, businessDate: "2026-03-02", daysPastDue: 3 } }),
      ]);
      const until = Date.now() + 20_000;
      while ((await client.getCreditScore({ accountId })).score !== 600) {
        if (Date.now() > until) throw new Error("event not consumed");
        await new Promise((r) => setTimeout(r, 100));
      }

      // readiness follows its terms (database, broker, the service's own); liveness does not
      const address = `127.0.0.1:${svc.grpcPort}`;
      const waitFor = async (svcName: string, want: string) => {
        const by = Date.now() + 10_000;
        for (;;) {
          const got = await checkHealth(address, svcName);
          if (got === want) return got;
          if (Date.now() > by) throw new Error(`${svcName} is ${got}, not ${want}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      expect(await checkHealth(address, READINESS)).toBe("SERVING");
      termHolds = false;
      await waitFor(READINESS, "NOT_SERVING");
      expect(await checkHealth(address, "")).toBe("NOT_SERVING");
      expect(await checkHealth(address, LIVENESS)).toBe("SERVING");
      termHolds = true;
      await waitFor(READINESS, "SERVING");
      expect(await checkHealth(address, "")).toBe("SERVING");
    } finally {
      client.close();
      await svc.stop();
      const { MongoClient } = await import("mongodb");
      const c = new MongoClient(mongoUri);
      await c.db(db).dropDatabase();
      await c.close();
    }
  });
});
