import type { ServiceDefinition } from '@grpc/grpc-js';
import { messageCodec, protoServiceDefinition } from './proto-service';

/** The kubelet's Registration service (v1beta1.Registration). */
export function registrationService(): ServiceDefinition {
  return protoServiceDefinition('v1beta1.Registration');
}

/** A device plugin's service (v1beta1.DevicePlugin). */
export function devicePluginService(): ServiceDefinition {
  return protoServiceDefinition('v1beta1.DevicePlugin');
}

/** ContainerAllocateResponse's protobuf bytes, as upstream's checkpoint keeps them (AllocResp). */
export function encodeContainerAllocateResponse(value: object): Buffer {
  return messageCodec('v1beta1.ContainerAllocateResponse').encode(value);
}

/** The inverse of encodeContainerAllocateResponse. */
export function decodeContainerAllocateResponse(bytes: Uint8Array): Record<string, unknown> {
  return messageCodec('v1beta1.ContainerAllocateResponse').decode(bytes);
}
