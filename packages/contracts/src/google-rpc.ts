// google.rpc status and error details (generated from vendored googleapis protos).
export * from "./gen/google/rpc/code_pb";
export * from "./gen/google/rpc/error_details_pb";
export * from "./gen/google/rpc/status_pb";
