/**
 * Server reflection (grpc.reflection.v1 and v1alpha) for protobuf-es services.
 * @grpc/reflection reads a proto-loader `PackageDefinition`, of which it only
 * uses `fileDescriptorProtos` (serialized `FileDescriptorProto`s); we build an
 * equivalent from the protobuf-es file descriptors and their transitive imports.
 */
import { type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Server } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { service as healthService } from "grpc-health-check";

/** Full name of the standard health service. */
export const HEALTH_SERVICE_NAME = "grpc.health.v1.Health";

/** Serialized `FileDescriptorProto`s of the files declaring `services` and all their imports, dependencies first. */
export function fileDescriptorSet(services: readonly DescService[]): Buffer[] {
  const seen = new Set<string>();
  const out: Buffer[] = [];
  const visit = (file: DescFile): void => {
    if (seen.has(file.proto.name)) return;
    seen.add(file.proto.name);
    for (const dep of file.dependencies) visit(dep);
    out.push(Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
  };
  for (const s of services) visit(s.file);
  return out;
}

function healthFileDescriptors(): Buffer[] {
  const check = (healthService as Record<string, { requestType?: { fileDescriptorProtos?: Buffer[] } }>)
    .Check;
  return check?.requestType?.fileDescriptorProtos ?? [];
}

/**
 * Adds reflection v1 and v1alpha to `server`, describing `services` and
 * `grpc.health.v1.Health`; only those services are listed.
 */
export function addReflection(server: Pick<Server, "addService">, services: readonly DescService[]): void {
  const pkg = {
    whiteslip: {
      format: "Protocol Buffer 3 DescriptorProto",
      type: {},
      fileDescriptorProtos: fileDescriptorSet(services),
    },
    health: {
      format: "Protocol Buffer 3 DescriptorProto",
      type: {},
      fileDescriptorProtos: healthFileDescriptors(),
    },
  };
  const names = [...services.map((s) => s.typeName), HEALTH_SERVICE_NAME];
  // The package definition is structurally what ReflectionService reads.
  new ReflectionService(pkg as unknown as ConstructorParameters<typeof ReflectionService>[0], {
    services: names,
  }).addToServer(server);
}
