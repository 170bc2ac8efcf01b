import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

// Defaults filled in and int64 as numbers, so handlers read plain objects.
const decodeOptions: protobuf.IConversionOptions = {
  defaults: true,
  longs: Number,
  arrays: true,
  objects: true,
};

/** A proto3 service, from a .proto text, as @grpc/grpc-js serves and calls it (plain objects in and out). */
export function grpcService(protoText: string, packageName: string, name: string): ServiceDefinition {
  const root = protobuf.parse(protoText).root;
  const service = root.lookupService(`${packageName}.${name}`);
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of Object.values(service.methods)) {
    method.resolve();
    const request = method.resolvedRequestType as protobuf.Type;
    const response = method.resolvedResponseType as protobuf.Type;
    definition[method.name] = {
      path: `/${packageName}.${name}/${method.name}`,
      requestStream: Boolean(method.requestStream),
      responseStream: Boolean(method.responseStream),
      requestSerialize: (value: object) => Buffer.from(request.encode(request.fromObject(value)).finish()),
      requestDeserialize: (bytes: Buffer) => request.toObject(request.decode(bytes), decodeOptions),
      responseSerialize: (value: object) => Buffer.from(response.encode(response.fromObject(value)).finish()),
      responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), decodeOptions),
      originalName: method.name,
    };
  }
  return definition;
}
