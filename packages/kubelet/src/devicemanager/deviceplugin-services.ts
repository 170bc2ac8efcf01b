import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { devicePluginV1beta1Proto } from './deviceplugin-api';

let root: protobuf.Root | undefined;

/** The v1beta1 package's protobufjs root, parsed once. */
function deviceplugin(): protobuf.Root {
  root ??= protobuf.parse(devicePluginV1beta1Proto).root;
  return root;
}

/** A gRPC service of the v1beta1 package as @grpc/grpc-js serves and calls it (plain objects in and out). */
function serviceDefinition(name: string): ServiceDefinition {
  const service = deviceplugin().lookupService(`v1beta1.${name}`);
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of Object.values(service.methods)) {
    method.resolve();
    const request = method.resolvedRequestType as protobuf.Type;
    const response = method.resolvedResponseType as protobuf.Type;
    definition[method.name] = {
      path: `/v1beta1.${name}/${method.name}`,
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

// Defaults filled in and int64 as numbers: handlers read every field without undefined checks.
const decodeOptions: protobuf.IConversionOptions = {
  defaults: true,
  longs: Number,
  arrays: true,
  objects: true,
};

/** The kubelet's Registration service (v1beta1.Registration). */
export function registrationService(): ServiceDefinition {
  return serviceDefinition('Registration');
}

/** A device plugin's service (v1beta1.DevicePlugin). */
export function devicePluginService(): ServiceDefinition {
  return serviceDefinition('DevicePlugin');
}

/** ContainerAllocateResponse's protobuf bytes, as upstream's checkpoint keeps them (AllocResp). */
export function encodeContainerAllocateResponse(value: object): Buffer {
  const type = deviceplugin().lookupType('v1beta1.ContainerAllocateResponse');
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

/** The inverse of encodeContainerAllocateResponse. */
export function decodeContainerAllocateResponse(bytes: Uint8Array): Record<string, unknown> {
  const type = deviceplugin().lookupType('v1beta1.ContainerAllocateResponse');
  return type.toObject(type.decode(bytes), decodeOptions);
}
