// grpc.health.v1 (generated from the vendored canonical health.proto), so that server reflection describes the
// health service with a descriptor made by buf, as it does ours.
export * from "./gen/grpc/health/v1/health_pb";
