import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs/minimal.js';
import { serviceMethods } from './generated/service-methods';
import { messageType } from './message-type';

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

function codec(fullName: string) {
  const type = messageType(fullName);
  return {
    serialize: (value: object): Buffer => Buffer.from(type.encode(type.fromObject(value)).finish()),
    deserialize: (bytes: Buffer): object => type.toObject(type.decode(bytes), TO_OBJECT),
  };
}

/**
 * A grpc-js service definition (`csi.v1.Node`, `pluginregistration.Registration`): the method
 * paths (`/csi.v1.Node/NodePublishVolume`) and the codecs, the same for the client and the
 * servers so both sides agree on every byte.
 */
export function serviceDefinition(service: string): ServiceDefinition {
  const methods = serviceMethods[service];
  if (!methods) throw new TypeError(`no service ${service}`);
  const def: Record<string, unknown> = {};
  for (const method of methods) {
    const req = codec(method.request);
    const res = codec(method.response);
    def[method.name] = {
      path: `/${service}/${method.name}`,
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
