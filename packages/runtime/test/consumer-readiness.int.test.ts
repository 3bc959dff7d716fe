import { encodeEvent, subscribe } from "@whiteslip/bus";
import { Topics } from "@whiteslip/contracts";
import { checkHealth, LIVENESS, READINESS } from "@whiteslip/grpc";
import { testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { describe, expect, it } from "vitest";
import { startService } from "../src/index";

describe("readiness follows the bus", () => {
  const scope = testScope("consumer-readiness");

  it("is NOT_SERVING while a consumer holds a partition back for infrastructure trouble, SERVING once it got through", async () => {
    const accountId = uniqueName("acc");
    let databaseUp = false;
    const applied: string[] = [];
    const svc = await startService({
      name: "readiness-test",
      configShape: {},
      env: scope.serviceEnv("readiness-test"),
      readinessIntervalMs: 100,
      setup: async () => ({
        grpc: [],
        consumers: [
          {
            groupId: scope.group("readiness"),
            subscriptions: [
              subscribe(Topics.Overdue, async (e) => {
                if (e.key !== accountId) return;
                if (!databaseUp) throw Object.assign(new Error("server selection timed out"), { name: "MongoServerSelectionError" });
                applied.push(e.id);
              }),
            ],
          },
        ],
      }),
    });
    const address = `127.0.0.1:${svc.grpcPort}`;
    const waitFor = async (name: string, want: string) => {
      const by = Date.now() + 20_000;
      for (;;) {
        const got = await checkHealth(address, name);
        if (got === want) return got;
        if (Date.now() > by) throw new Error(`${name} is ${got}, not ${want}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor(READINESS, "SERVING");
      const id = uniqueName("ev");
      await svc.context.bus.publish([encodeEvent(Topics.Overdue, { id, key: accountId, time: new Date(), data: { accountId, customerId: `cus-${accountId}`, businessDate: "2026-03-02", daysPastDue: 1 } })]);
      await waitFor(READINESS, "NOT_SERVING");
      // the pod is unready, not dead: nothing restarts it
      expect(await checkHealth(address, LIVENESS)).toBe("SERVING");
      expect(applied).toEqual([]);
      databaseUp = true;
      await waitFor(READINESS, "SERVING");
      expect(applied).toEqual([id]);
    } finally {
      await svc.stop();
    }
  });
});
