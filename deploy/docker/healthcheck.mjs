// Container health check for compose: asks the service's gRPC health service
// (grpc.health.v1.Health/Check, service "") over plain HTTP/2 and exits 0 only
// on SERVING. No dependencies, so it runs from any working directory.
//   node deploy/docker/healthcheck.mjs [port]   (default $GRPC_PORT, else 50051)
import { connect } from "node:http2";

const port = Number(process.argv[2] ?? process.env.GRPC_PORT ?? 50051);
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
// An empty HealthCheckRequest (service ""): uncompressed flag + zero length.
req.end(Buffer.alloc(5));
