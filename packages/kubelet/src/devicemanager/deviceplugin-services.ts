import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { devicePluginV1beta1Proto } from './deviceplugin-api';
import { messageCodec, protoServiceDefinition } from './proto-service';

let root: protobuf.Root | undefined;

/** The v1beta1 package's protobufjs root, parsed once. */
function deviceplugin(): protobuf.Root {
  root ??= protobuf.parse(devicePluginV1beta1Proto).root;
  return root;
}

/** The kubelet's Registration service (v1beta1.Registration). */
export function registrationService(): ServiceDefinition {
  return protoServiceDefinition(deviceplugin(), 'v1beta1', 'Registration');
}

/** A device plugin's service (v1beta1.DevicePlugin). */
export function devicePluginService(): ServiceDefinition {
  return protoServiceDefinition(deviceplugin(), 'v1beta1', 'DevicePlugin');
}

/** ContainerAllocateResponse's protobuf bytes, as upstream's checkpoint keeps them (AllocResp). */
export function encodeContainerAllocateResponse(value: object): Buffer {
  return messageCodec(deviceplugin().lookupType('v1beta1.ContainerAllocateResponse')).encode(value);
}

/** The inverse of encodeContainerAllocateResponse. */
export function decodeContainerAllocateResponse(bytes: Uint8Array): Record<string, unknown> {
  return messageCodec(deviceplugin().lookupType('v1beta1.ContainerAllocateResponse')).decode(bytes);
}
