import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';

// Defaults filled in and int64 as numbers: handlers and callers read plain objects.
const decodeOptions: protobuf.IConversionOptions = {
  defaults: true,
  longs: Number,
  arrays: true,
  objects: true,
};

/** A message type's protobuf bytes and back, as plain objects. */
export interface MessageCodec {
  encode(value: object): Buffer;
  decode(bytes: Uint8Array): Record<string, unknown>;
}

/** The codec of `type` (a resolved protobufjs message type). */
export function messageCodec(type: protobuf.Type): MessageCodec {
  return {
    encode: (value) => Buffer.from(type.encode(type.fromObject(value)).finish()),
    decode: (bytes) => type.toObject(type.decode(bytes), decodeOptions),
  };
}

/**
 * A proto3 service of `root` (a parsed .proto) as @grpc/grpc-js serves and calls it: the kubelet's
 * node-plugin APIs (device plugins, pod resources) are small enough to be read from their
 * vendored .proto text at first use instead of generated code.
 */
export function protoServiceDefinition(
  root: protobuf.Root,
  packageName: string,
  name: string,
): ServiceDefinition {
  const service = root.lookupService(`${packageName}.${name}`);
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of Object.values(service.methods)) {
    method.resolve();
    const request = messageCodec(method.resolvedRequestType as protobuf.Type);
    const response = messageCodec(method.resolvedResponseType as protobuf.Type);
    definition[method.name] = {
      path: `/${packageName}.${name}/${method.name}`,
      requestStream: Boolean(method.requestStream),
      responseStream: Boolean(method.responseStream),
      requestSerialize: request.encode,
      requestDeserialize: request.decode,
      responseSerialize: response.encode,
      responseDeserialize: response.decode,
      originalName: method.name,
    };
  }
  return definition;
}
