import { messageCodec } from '@nodeagent/plugin-api';
import type { ContainerAllocateResponse as WireContainerAllocateResponse } from '@nodeagent/plugin-api/deviceplugin';
import type { ContainerAllocateResponse } from './deviceplugin-api';

const allocateResponseCodec = messageCodec<WireContainerAllocateResponse>(
  'v1beta1.ContainerAllocateResponse',
);

/** ContainerAllocateResponse's protobuf bytes, as upstream's checkpoint keeps them (AllocResp). */
export function encodeContainerAllocateResponse(value: ContainerAllocateResponse): Buffer {
  return allocateResponseCodec.encode(value);
}

/** The inverse of encodeContainerAllocateResponse. */
export function decodeContainerAllocateResponse(bytes: Uint8Array): WireContainerAllocateResponse {
  return allocateResponseCodec.decode(bytes);
}
