import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs/minimal.js';
import { serviceMethods } from './generated/service-methods';
import { type MessageType, messageType } from './message-type';

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

/** One service's methods as scripts/generate-codecs.ts writes them. */
export type ServiceMethods = readonly {
  name: string;
  request: string;
  response: string;
  requestStream?: true;
  responseStream?: true;
}[];

/**
 * A grpc-js service definition from generated codecs: the method paths (`/<service>/<method>`),
 * each side's streaming, and the codecs (objects as TO_OBJECT makes them), the same for a client
 * and a server so both sides agree on every byte. The kubelet's other node-plugin APIs (device
 * plugins, pod resources) build theirs with it from codecs of their own.
 */
export function grpcServiceDefinition(
  service: string,
  methods: ServiceMethods,
  messageTypeOf: (fullName: string) => MessageType,
): ServiceDefinition {
  const codec = (fullName: string) => {
    const type = messageTypeOf(fullName);
    return {
      serialize: (value: object): Buffer => Buffer.from(type.encode(type.fromObject(value)).finish()),
      deserialize: (bytes: Buffer): object => type.toObject(type.decode(bytes), TO_OBJECT),
    };
  };
  const def: Record<string, unknown> = {};
  for (const method of methods) {
    const req = codec(method.request);
    const res = codec(method.response);
    def[method.name] = {
      path: `/${service}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: req.serialize,
      requestDeserialize: req.deserialize,
      responseSerialize: res.serialize,
      responseDeserialize: res.deserialize,
      originalName: method.name,
    };
  }
  return def as ServiceDefinition;
}

/** A service of the CSI spec or the plugin registration API (`csi.v1.Node`, `pluginregistration.Registration`). */
export function serviceDefinition(service: string): ServiceDefinition {
  const methods = serviceMethods[service];
  if (!methods) throw new TypeError(`no service ${service}`);
  return grpcServiceDefinition(service, methods, messageType);
}
