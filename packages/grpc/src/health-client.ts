import { createRequire } from "node:module";
import * as grpc from "@grpc/grpc-js";
import { service as healthServiceDef } from "grpc-health-check";

/** The answer of grpc.health.v1.Health/Check. */
export type HealthStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN" | "UNREACHABLE";

/** Asks a server's health service; UNREACHABLE when it does not answer within `timeoutMs`. */
export async function checkHealth(
  address: string,
  service = "",
  timeoutMs = 1_000,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): Promise<HealthStatus> {
  const Health = grpc.makeClientConstructor(healthServiceDef, "Health");
  const client = new Health(address, credentials) as unknown as grpc.Client & {
    check(
      req: { service: string },
      opts: grpc.CallOptions,
      cb: (e: grpc.ServiceError | null, r: { status: string | number }) => void,
    ): void;
  };
  try {
    return await new Promise<HealthStatus>((resolve) => {
      client.check({ service }, { deadline: Date.now() + timeoutMs }, (e, r) => {
        if (e) resolve("UNREACHABLE");
        else resolve((typeof r.status === "number" ? ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"][r.status] : r.status) as HealthStatus);
      });
    });
  } finally {
    client.close();
  }
}

/** Waits until the server reports SERVING; rejects after `timeoutMs`. */
export async function waitForServing(
  address: string,
  timeoutMs = 60_000,
  /** Credentials, or a factory called for each attempt (fresh credentials per attempt, e.g. static TLS files). */
  credentials?: grpc.ChannelCredentials | (() => grpc.ChannelCredentials),
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    // 5 s an attempt: a TLS handshake on a loaded machine can take more than a second
    const s = await checkHealth(address, "", 5_000, typeof credentials === "function" ? credentials() : credentials);
    if (s === "SERVING") return;
    if (Date.now() > until) throw new Error(`${address} not SERVING after ${timeoutMs} ms (last: ${s})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Lists a server's services through gRPC server reflection (v1), as `grpcurl list` does.
 * The reflection proto and proto-loader ship with @grpc/reflection.
 */
export async function listServices(
  address: string,
  timeoutMs = 3_000,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): Promise<string[]> {
  const req = createRequire(createRequire(import.meta.url).resolve("@grpc/reflection"));
  const protoLoader = req("@grpc/proto-loader") as { loadSync(path: string, options: object): Record<string, unknown> };
  const pkgDef = protoLoader.loadSync(req.resolve("../proto/grpc/reflection/v1/reflection.proto"), {
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const Ctor = grpc.makeClientConstructor(pkgDef["grpc.reflection.v1.ServerReflection"] as grpc.ServiceDefinition, "ServerReflection");
  const client = new Ctor(address, credentials) as unknown as grpc.Client & {
    ServerReflectionInfo(opts: grpc.CallOptions): grpc.ClientDuplexStream<object, { listServicesResponse?: { service: { name: string }[] } }>;
  };
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo({ deadline: Date.now() + timeoutMs });
      stream.on("data", (d: { listServicesResponse?: { service: { name: string }[] } }) => {
        resolve((d.listServicesResponse?.service ?? []).map((s: { name: string }) => s.name).sort());
        stream.end();
      });
      stream.on("error", reject);
      stream.write({ listServices: "*" });
    });
  } finally {
    client.close();
  }
}
