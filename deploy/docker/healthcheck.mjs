// Container health check for compose: asks the service's gRPC health service
// (grpc.health.v1.Health/Check, service "" unless named: "readiness" follows Kafka
// and MongoDB, "liveness" the process only) over plain HTTP/2 and exits 0 only
// on SERVING. No dependencies, so it runs from any working directory.
//   node deploy/docker/healthcheck.mjs [port] [service]   (default $GRPC_PORT, else 50051; service "")
import { connect } from "node:http2";

const port = Number(process.argv[2] ?? process.env.GRPC_PORT ?? 50051);
const service = Buffer.from(process.argv[3] ?? "", "utf8");
const SERVING = 1;
const fail = (why) => {
  process.stderr.write(`unhealthy: ${why}\n`);
  process.exit(1);
};
setTimeout(() => fail("timeout"), 3000).unref();

const session = connect(`http://127.0.0.1:${port}`);
session.on("error", (e) => fail(e.message));
const req = session.request({
  ":method": "POST",
  ":path": "/grpc.health.v1.Health/Check",
  "content-type": "application/grpc",
  te: "trailers",
});
const chunks = [];
let grpcStatus;
req.on("data", (c) => chunks.push(c));
req.on("trailers", (t) => {
  grpcStatus = t["grpc-status"];
});
req.on("response", (h) => {
  if (h["grpc-status"] !== undefined) grpcStatus = h["grpc-status"];
});
req.on("error", (e) => fail(e.message));
req.on("end", () => {
  session.close();
  if (grpcStatus !== undefined && grpcStatus !== "0") fail(`grpc-status ${grpcStatus}`);
  // One length-prefixed message: HealthCheckResponse { status (field 1, varint) }.
  const body = Buffer.concat(chunks).subarray(5);
  const status = body.length >= 2 && body[0] === 0x08 ? body[1] : 0;
  if (status !== SERVING) fail(`status ${status}`);
  process.exit(0);
});
// HealthCheckRequest { service (field 1, length-delimited) }, empty for "": uncompressed flag + length + message.
if (service.length > 127) fail("service name too long");
const message = service.length > 0 ? Buffer.concat([Buffer.from([0x0a, service.length]), service]) : Buffer.alloc(0);
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
message.copy(frame, 5);
req.end(frame);
