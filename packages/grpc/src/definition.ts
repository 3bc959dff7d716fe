/**
 * Adapter from protobuf-es service descriptors (`GenService`) to grpc-js
 * `ServiceDefinition`s: path `/<package>.<Service>/<Method>`, binary
 * (de)serialization with `toBinary`/`fromBinary`. Unary methods only.
 */
import {
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/** Wire path of a method: `/whiteslip.credit.v1.CreditService/GetCreditLine`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** Name used for spans and logs: `whiteslip.credit.v1.CreditService/GetCreditLine`. */
export function methodName(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

/** Throws unless every method of the service is unary (streaming is not supported). */
export function assertUnary(desc: DescService): void {
  const streaming = desc.methods.filter((m) => m.methodKind !== "unary");
  if (streaming.length > 0) {
    throw new Error(
      `@whiteslip/grpc supports unary methods only; ${desc.typeName} has streaming method(s): ${streaming
        .map((m) => `${m.name} (${m.methodKind})`)
        .join(", ")}`,
    );
  }
}

/** Serializer of messages of `schema` for grpc-js. */
export function serializer<D extends DescMessage>(schema: D): (value: MessageShape<D>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/** Deserializer of messages of `schema` for grpc-js. */
export function deserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => fromBinary(schema, bytes);
}

/** grpc-js definition of a protobuf-es service, keyed by the lowerCamel method names. */
export type GrpcServiceDefinition<S extends DescService> = {
  [K in keyof S["method"]]: MethodDefinition<
    MessageShape<S["method"][K]["input"]>,
    MessageShape<S["method"][K]["output"]>
  >;
};

/**
 * The grpc-js `ServiceDefinition` of a protobuf-es service (for use with plain
 * grpc-js `Server.addService` or `makeGenericClientConstructor`). Throws for
 * streaming methods.
 */
export function serviceDefinition<S extends DescService>(desc: S): GrpcServiceDefinition<S> {
  assertUnary(desc);
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const m of desc.methods) {
    def[m.localName] = {
      path: methodPath(m),
      requestStream: false,
      responseStream: false,
      requestSerialize: serializer(m.input) as (v: unknown) => Buffer,
      requestDeserialize: deserializer(m.input),
      responseSerialize: serializer(m.output) as (v: unknown) => Buffer,
      responseDeserialize: deserializer(m.output),
      originalName: m.name,
    };
  }
  return def as GrpcServiceDefinition<S>;
}

/** Untyped alias kept for grpc-js interop. */
export type AnyServiceDefinition = ServiceDefinition;
