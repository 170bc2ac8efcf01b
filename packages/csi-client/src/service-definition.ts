import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';

/**
 * How messages are turned into objects: enums by name (`SINGLE_NODE_MULTI_WRITER`), 64-bit
 * integers as numbers (volume sizes and counts stay far below 2^53), unset scalars at their
 * proto3 default so callers read `nodeId` without checking for undefined.
 */
export const TO_OBJECT: protobuf.IConversionOptions = {
  enums: String,
  longs: Number,
  defaults: true,
  arrays: true,
  objects: true,
};

function codec(type: protobuf.Type) {
  return {
    serialize: (value: object): Buffer => Buffer.from(type.encode(type.fromObject(value)).finish()),
    deserialize: (bytes: Buffer): object => type.toObject(type.decode(bytes), TO_OBJECT),
  };
}

/**
 * A grpc-js service definition for a protobufjs service: the method paths
 * (`/csi.v1.Node/NodePublishVolume`) and the codecs, the same for the client and the fake
 * servers so both sides agree on every byte.
 */
export function serviceDefinition(service: protobuf.Service): ServiceDefinition {
  const def: Record<string, unknown> = {};
  const pkg = service.fullName.slice(1);
  for (const method of service.methodsArray) {
    method.resolve();
    const req = codec(method.resolvedRequestType as protobuf.Type);
    const res = codec(method.resolvedResponseType as protobuf.Type);
    def[method.name] = {
      path: `/${pkg}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: req.serialize,
      requestDeserialize: req.deserialize,
      responseSerialize: res.serialize,
      responseDeserialize: res.deserialize,
      originalName: method.name,
    };
  }
  return def as ServiceDefinition;
}
