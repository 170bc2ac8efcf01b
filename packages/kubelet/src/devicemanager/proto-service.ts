import type { ServiceDefinition } from '@grpc/grpc-js';
import { grpcServiceDefinition, precompiledMessageTypes, TO_OBJECT } from '@nodeagent/csi-client';
import { codecFunctions, enumValues } from './generated/codec-functions';
import { serviceMethods } from './generated/service-methods';

// The kubelet's node-plugin APIs (device plugins v1beta1, pod resources v1) from codecs generated
// out of their vendored .proto texts (scripts/generate-plugin-codecs.ts), as the CRI and CSI
// clients do theirs: protobufjs's minimal runtime, no reflection built at start.
const messageType = precompiledMessageTypes(codecFunctions, enumValues, 'device plugin or pod-resources');

/** A message type's protobuf bytes and back, as plain objects. */
export interface MessageCodec {
  encode(value: object): Buffer;
  decode(bytes: Uint8Array): Record<string, unknown>;
}

/** The codec of a message type by full name (`v1beta1.ContainerAllocateResponse`). */
export function messageCodec(fullName: string): MessageCodec {
  const type = messageType(fullName);
  return {
    encode: (value) => Buffer.from(type.encode(type.fromObject(value)).finish()),
    decode: (bytes) => type.toObject(type.decode(bytes), TO_OBJECT),
  };
}

/** A service (`v1beta1.DevicePlugin`, `v1.PodResourcesLister`) as @grpc/grpc-js serves and calls it. */
export function protoServiceDefinition(service: string): ServiceDefinition {
  const methods = serviceMethods[service];
  if (!methods) throw new TypeError(`no device plugin or pod-resources service ${service}`);
  return grpcServiceDefinition(service, methods, messageType);
}
