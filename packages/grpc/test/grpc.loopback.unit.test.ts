/**
 * A real grpc-js server on a loopback port with a real contracts service,
 * called through the typed client and raw grpc-js clients (health, reflection).
 */
// first: the in-memory exporter and OpenTelemetry's grpc-js instrumentation, before anything loads grpc-js
import { captured } from "./support/instrument-first";
import { createRequire } from "node:module";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { credit } from "@whiteslip/contracts";
import { DomainError, invalidArgument, notFound, permissionDenied, Violations } from "@whiteslip/core";
import { createLogger } from "@whiteslip/telemetry";
import { service as healthServiceDef } from "grpc-health-check";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  GrpcError,
  type GrpcServer,
  LIVENESS,
  type LoggerLike,
  type Principal,
  READINESS,
  service,
  startGrpcServer,
} from "../src/index";

/** A LoggerLike that records each line with its bindings. */
function captureLogger(lines: Record<string, unknown>[], bindings: Record<string, unknown> = {}): LoggerLike {
  const log =
    (level: string) =>
    (a: object | string, msg?: string): void => {
      lines.push(typeof a === "string" ? { ...bindings, level, msg: a } : { ...bindings, ...a, level, msg });
    };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (b) => captureLogger(lines, { ...bindings, ...b }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("gRPC server + typed client on loopback", () => {
  const lines: Record<string, unknown>[] = [];
  const seen: { principal?: Principal; traceId?: unknown; aborted?: boolean; slowCalls: number; slowAuthDone?: Promise<void> } = {
    slowCalls: 0,
  };
  let server: GrpcServer;
  let address: string;
  let client: ReturnType<typeof createClient<typeof credit.CreditService>>;

  beforeAll(async () => {
    server = await startGrpcServer({
      port: 0,
      host: "127.0.0.1",
      logger: captureLogger(lines),
      auth: async (ctx) => {
        const token = ctx.metadata.get("authorization")[0];
        if (token === "Bearer bad") return new DomainError("unauthenticated", "bad token", "BAD_TOKEN");
        if (token === "Bearer guest") throw permissionDenied("GUEST", "guests may not call this");
        if (token === "Bearer slow") {
          let done!: () => void;
          seen.slowAuthDone = new Promise<void>((r) => { done = r; });
          await sleep(150);
          setImmediate(done); // after the server has acted on this hook's answer
        }
        return token ? { subject: String(token).slice(7) } : undefined;
      },
      services: [
        service(credit.CreditService, {
          getCreditLine: async (req, ctx) => {
            seen.principal = ctx.principal;
            ctx.logger.info({ creditLineId: req.creditLineId }, "looking up");
            if (req.creditLineId === "boom") throw new Error("secret connection string");
            if (req.creditLineId === "db-down") {
              // a real driver against a port where no database listens
              const db = new MongoClient("mongodb://127.0.0.1:1/?directConnection=true", { serverSelectionTimeoutMS: 300 });
              try {
                await db.db("x").command({ ping: 1 });
              } finally {
                await db.close();
              }
            }
            if (req.creditLineId === "slow") {
              seen.slowCalls++;
              await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
              seen.aborted = ctx.signal.aborted;
              return {};
            }
            if (!req.creditLineId)
              throw invalidArgument([{ field: "credit_line_id", description: "is required" }]);
            if (req.creditLineId === "missing") throw notFound("CreditLine", "missing");
            return {
              creditLine: { creditLineId: req.creditLineId, limitFen: 5_000_00n, availableFen: 1_234_56n },
            };
          },
          authorizePurchase: async (req) => {
            new Violations()
              .check(req.amountFen <= 0n, "amount_fen", `must be positive, got ${req.amountFen}`)
              .check(!req.orderId, "order_id", "is required")
              .throwIfAny();
            return { authorizationId: "auth-1", availableFen: 100n };
          },
        }),
      ],
    });
    address = `127.0.0.1:${server.port}`;
    client = createClient(credit.CreditService, address, { deadlineMs: 2_000 });
  });

  afterAll(async () => {
    client?.close();
    await server?.stop(1_000);
  });

  it("serves a typed unary call with bigint money and logs one line without the request body", async () => {
    lines.length = 0;
    const { res, traceId } = await trace.getTracer("loopback-test").startActiveSpan("caller", async (caller) => {
      try {
        const r = await client.getCreditLine({ creditLineId: "cl-1" }, { metadata: { authorization: "Bearer svc-billing" } });
        return { res: r, traceId: caller.spanContext().traceId };
      } finally {
        caller.end();
      }
    });
    expect(res.creditLine?.creditLineId).toBe("cl-1");
    expect(res.creditLine?.availableFen).toBe(123_456n);
    expect(seen.principal).toEqual({ subject: "svc-billing" });
    const callLines = lines.filter((l) => l.msg === "grpc call");
    expect(callLines).toHaveLength(1);
    expect(callLines[0]).toMatchObject({
      method: "whiteslip.credit.v1.CreditService/GetCreditLine",
      code: "OK",
      trace_id: traceId,
      level: "info",
    });
    expect(typeof callLines[0]?.durationMs).toBe("number");
    expect(JSON.stringify(callLines)).not.toContain("cl-1");
    // the handler's logger is bound to the method and the caller's trace
    expect(lines.find((l) => l.msg === "looking up")).toMatchObject({
      method: "whiteslip.credit.v1.CreditService/GetCreditLine",
      trace_id: traceId,
    });
    // OpenTelemetry's grpc-js instrumentation: CLIENT span under the caller, SERVER span under it, across metadata
    const spans = captured.spans().filter((sp) => sp.spanContext().traceId === traceId);
    const clientSpan = spans.find((sp) => sp.kind === SpanKind.CLIENT);
    const serverSpan = spans.find((sp) => sp.kind === SpanKind.SERVER);
    expect(clientSpan?.name).toBe("grpc.whiteslip.credit.v1.CreditService/GetCreditLine");
    expect(serverSpan?.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": "whiteslip.credit.v1.CreditService",
      "rpc.method": "GetCreditLine",
      "rpc.grpc.status_code": 0,
    });
    expect(serverSpan?.parentSpanContext?.spanId).toBe(clientSpan?.spanContext().spanId);
    expect(callLines[0]?.span_id).toBe(serverSpan?.spanContext().spanId);
    // health probes make no spans
    expect(spans.concat(captured.spans()).some((sp) => String(sp.attributes["rpc.service"]).startsWith("grpc.health"))).toBe(false);
  });

  it("rejects with INVALID_ARGUMENT and the field violations parsed by the client", async () => {
    const err = await client
      .authorizePurchase({ creditLineId: "cl-1", amountFen: -5n })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcError);
    const g = err as GrpcError;
    expect(g.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(g.kind).toBe("invalid_argument");
    expect(g.violations).toEqual([
      { field: "amount_fen", description: "must be positive, got -5" },
      { field: "order_id", description: "is required" },
    ]);
    expect(g.reason).toBe("INVALID_ARGUMENT");
  });

  it("maps NOT_FOUND with ErrorInfo, hides unknown errors as INTERNAL, and answers UNIMPLEMENTED for missing handlers", async () => {
    const nf = (await client.getCreditLine({ creditLineId: "missing" }).catch((e) => e)) as GrpcError;
    expect(nf.code).toBe(grpc.status.NOT_FOUND);
    expect(nf.reason).toBe("CREDIT_LINE_NOT_FOUND");
    expect(nf.metadata).toEqual({ resource: "CreditLine", id: "missing" });

    lines.length = 0;
    const internal = (await client.getCreditLine({ creditLineId: "boom" }).catch((e) => e)) as GrpcError;
    expect(internal.code).toBe(grpc.status.INTERNAL);
    expect(internal.message).toBe("internal error");
    expect(lines.find((l) => l.msg === "grpc call failed")).toMatchObject({
      level: "error",
      code: "INTERNAL",
    });

    const un = (await client.registerCustomer({ name: "x" }).catch((e) => e)) as GrpcError;
    expect(un.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(un.message).toContain("RegisterCustomer");
  });

  it("answers UNAVAILABLE DATABASE_UNAVAILABLE, not INTERNAL, when the database cannot be reached", async () => {
    lines.length = 0;
    const e = (await client.getCreditLine({ creditLineId: "db-down" }).catch((x) => x)) as GrpcError;
    expect(e.code).toBe(grpc.status.UNAVAILABLE);
    expect(e.reason).toBe("DATABASE_UNAVAILABLE");
    expect(e.message).toBe("the database is unavailable; retry");
    expect(lines.find((l) => l.msg === "grpc call failed: infrastructure unavailable")).toMatchObject({ level: "warn", code: "UNAVAILABLE" });
  });

  it("answers INVALID_ARGUMENT to a request that does not decode", async () => {
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const err = await new Promise<grpc.ServiceError>((resolve) => {
        raw.makeUnaryRequest(
          "/whiteslip.credit.v1.CreditService/GetCreditLine",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0x0a, 0xff, 0xff]), // field 1, length 0x3fff…, truncated
          new grpc.Metadata(),
          (e) => resolve(e as grpc.ServiceError),
        );
      });
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(GrpcError.fromServiceError(err).reason).toBe("MALFORMED_REQUEST");
    } finally {
      raw.close();
    }
  });

  it("refuses calls through the auth hook: returned DomainError → UNAUTHENTICATED, thrown → PERMISSION_DENIED", async () => {
    const bad = (await client
      .getCreditLine({ creditLineId: "cl-1" }, { metadata: { authorization: "Bearer bad" } })
      .catch((e) => e)) as GrpcError;
    expect(bad.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(bad.reason).toBe("BAD_TOKEN");
    const guest = (await client
      .getCreditLine({ creditLineId: "cl-1" }, { metadata: { authorization: "Bearer guest" } })
      .catch((e) => e)) as GrpcError;
    expect(guest.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(guest.reason).toBe("GUEST");
  });

  it("enforces deadlines: DEADLINE_EXCEEDED for the caller, ctx.signal aborted in the handler", async () => {
    const t0 = Date.now();
    const err = (await client
      .getCreditLine({ creditLineId: "slow" }, { deadlineMs: 100 })
      .catch((e) => e)) as GrpcError;
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - t0).toBeLessThan(1_500);
    await expect.poll(() => seen.aborted).toBe(true);
  });

  it("does not start the handler when the deadline passed before it (slow auth)", async () => {
    const before = seen.slowCalls;
    const err = (await client
      .getCreditLine({ creditLineId: "slow" }, { deadlineMs: 50, metadata: { authorization: "Bearer slow" } })
      .catch((e) => e)) as GrpcError;
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // Barrier, not a wait: the auth hook has finished (after the deadline) and the server has acted on its answer.
    await seen.slowAuthDone;
    await new Promise((r) => setImmediate(r));
    expect(seen.slowCalls).toBe(before);
  });

  it("cancels a call when the caller's signal aborts", async () => {
    const ac = new AbortController();
    const p = client.getCreditLine({ creditLineId: "slow" }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    const err = (await p.catch((e) => e)) as GrpcError;
    expect(err.code).toBe(grpc.status.CANCELLED);
    const pre = (await client
      .getCreditLine({ creditLineId: "x" }, { signal: AbortSignal.abort() })
      .catch((e) => e)) as GrpcError;
    expect(pre.code).toBe(grpc.status.CANCELLED);
  });

  it("serves grpc.health.v1.Health: readiness follows setServing, liveness stays SERVING", async () => {
    const Health = grpc.makeClientConstructor(healthServiceDef, "Health");
    const health = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      check(
        req: { service: string },
        cb: (err: grpc.ServiceError | null, res: { status: string }) => void,
      ): void;
    };
    const check = (svc: string) =>
      new Promise<string>((resolve, reject) =>
        health.check({ service: svc }, (e, r) => (e ? reject(e) : resolve(r.status))),
      );
    try {
      expect(await check("")).toBe("SERVING");
      expect(await check(READINESS)).toBe("SERVING");
      expect(await check(LIVENESS)).toBe("SERVING");
      expect(await check("whiteslip.credit.v1.CreditService")).toBe("SERVING");
      // a dependency went away: not ready, but alive (a liveness probe must not restart the pod)
      server.setServing(false);
      expect(await check("")).toBe("NOT_SERVING");
      expect(await check(READINESS)).toBe("NOT_SERVING");
      expect(await check("whiteslip.credit.v1.CreditService")).toBe("NOT_SERVING");
      expect(await check(LIVENESS)).toBe("SERVING");
      server.setServing(true);
      expect(await check("")).toBe("SERVING");
      expect(await check(READINESS)).toBe("SERVING");
      await expect(check("no.Such")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    } finally {
      health.close();
    }
  });

  describe.each(["v1", "v1alpha"])("server reflection %s", (version) => {
    type ReflectionResponse = {
      listServicesResponse?: { service: { name: string }[] };
      fileDescriptorResponse?: { fileDescriptorProto: number[][] };
      errorResponse?: { errorCode: number; errorMessage: string };
    };
    let ask: (req: Record<string, string>) => Promise<ReflectionResponse>;
    let close: () => void;

    beforeAll(() => {
      // The reflection proto and proto-loader ship with @grpc/reflection.
      const req = createRequire(createRequire(import.meta.url).resolve("@grpc/reflection"));
      const protoLoader = req("@grpc/proto-loader") as {
        loadSync(path: string, options: object): Record<string, unknown>;
      };
      const protoPath = req.resolve(`../proto/grpc/reflection/${version}/reflection.proto`);
      const pkgDef = protoLoader.loadSync(protoPath, {
        longs: String,
        enums: String,
        bytes: Array,
        defaults: true,
        oneofs: true,
      });
      const def = pkgDef[`grpc.reflection.${version}.ServerReflection`] as grpc.ServiceDefinition;
      const Ctor = grpc.makeClientConstructor(def, "ServerReflection");
      const c = new Ctor(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
        ServerReflectionInfo(): grpc.ClientDuplexStream<Record<string, string>, ReflectionResponse>;
      };
      close = () => c.close();
      ask = (r) =>
        new Promise((resolve, reject) => {
          const stream = c.ServerReflectionInfo();
          stream.on("data", (d: ReflectionResponse) => {
            resolve(d);
            stream.end();
          });
          stream.on("error", reject);
          stream.write(r);
        });
    });
    afterAll(() => close());

    it("lists the services and health", async () => {
      const res = await ask({ listServices: "*" });
      expect(res.listServicesResponse?.service.map((s) => s.name).sort()).toEqual([
        "grpc.health.v1.Health",
        "whiteslip.credit.v1.CreditService",
      ]);
    });

    it("returns the file containing a symbol with all its imports", async () => {
      const res = await ask({ fileContainingSymbol: "whiteslip.credit.v1.CreditService" });
      const files = (res.fileDescriptorResponse?.fileDescriptorProto ?? []).map((b) =>
        fromBinary(FileDescriptorProtoSchema, Uint8Array.from(b)),
      );
      const names = files.map((f) => f.name);
      expect(names).toContain("whiteslip/credit/v1/credit_service.proto");
      expect(names).toContain("whiteslip/credit/v1/credit.proto");
      expect(names).toContain("google/protobuf/timestamp.proto");
      // self-contained: a registry resolves the service and its messages from these files alone
      const byName = new Map(files.map((f) => [f.name, f]));
      const ordered: typeof files = []; // dependencies first, as a FileDescriptorSet needs
      const visit = (name: string): void => {
        const f = byName.get(name);
        if (!f || ordered.includes(f)) return;
        f.dependency.forEach(visit);
        ordered.push(f);
      };
      for (const name of byName.keys()) visit(name);
      const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
      const svc = registry.getService("whiteslip.credit.v1.CreditService");
      expect(svc?.methods.map((m) => m.name)).toContain("AuthorizePurchase");
      expect(registry.getMessage("whiteslip.credit.v1.CreditLine")?.fields.map((f) => f.name)).toContain(
        "available_fen",
      );

      const health = await ask({ fileContainingSymbol: "grpc.health.v1.Health" });
      expect(health.fileDescriptorResponse?.fileDescriptorProto.length).toBeGreaterThan(0);
      const unknown = await ask({ fileContainingSymbol: "no.such.Symbol" });
      expect(unknown.errorResponse?.errorCode).toBe(grpc.status.NOT_FOUND);
    });
  });

  it("runs interceptors around handlers, outermost first, with the decoded request", async () => {
    const order: string[] = [];
    const s = await startGrpcServer({
      port: 0,
      host: "127.0.0.1",
      interceptors: [
        async ({ method, request }, next) => {
          order.push(`outer:${method.name}:${(request as { creditLineId: string }).creditLineId}`);
          const res = await next();
          order.push("outer:after");
          return res;
        },
        async ({ request }, next) => {
          order.push("inner");
          if ((request as { creditLineId: string }).creditLineId === "deny")
            throw permissionDenied("DENIED_BY_INTERCEPTOR", "no");
          return next();
        },
      ],
      services: [
        service(credit.CreditService, {
          getCreditLine: async (req) => {
            order.push("handler");
            return { creditLine: { creditLineId: req.creditLineId } };
          },
        }),
      ],
    });
    const c = createClient(credit.CreditService, `127.0.0.1:${s.port}`);
    try {
      expect((await c.getCreditLine({ creditLineId: "ok" })).creditLine?.creditLineId).toBe("ok");
      expect(order).toEqual(["outer:GetCreditLine:ok", "inner", "handler", "outer:after"]);
      const denied = (await c.getCreditLine({ creditLineId: "deny" }).catch((e) => e)) as GrpcError;
      expect(denied.reason).toBe("DENIED_BY_INTERCEPTOR");
      expect(order.filter((o) => o === "handler")).toHaveLength(1);
    } finally {
      c.close();
      await s.stop(500);
    }
  });

  it("accepts a pino logger from @whiteslip/telemetry", async () => {
    const chunks: string[] = [];
    const destination = new (await import("node:stream")).Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    });
    const s = await startGrpcServer({
      port: 0,
      host: "127.0.0.1",
      logger: createLogger({ service: "grpc-test", level: "info", destination }),
      services: [],
    });
    await s.stop(500);
    expect(chunks.join("")).toContain('"msg":"grpc server listening"');
  });
});
