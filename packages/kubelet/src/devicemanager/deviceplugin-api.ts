import type { MessageInit } from '@nodeagent/plugin-api';
import type {
  DevicePluginDevice,
  ContainerAllocateResponse as WireContainerAllocateResponse,
  DevicePluginOptions as WireDevicePluginOptions,
} from '@nodeagent/plugin-api/deviceplugin';

// The device plugin API v1beta1's wire format (messages, services, codecs) is
// @nodeagent/plugin-api's; what is here is the kubelet's side of it.

/** Upstream's constants.go: the one API version the kubelet speaks and the health words. */
export const devicePluginApiVersion = 'v1beta1';
export const healthyDevice = 'Healthy';
export const unhealthyDevice = 'Unhealthy';
/** The registration socket's name under `<root-dir>/device-plugins/` (upstream KubeletSocket). */
export const kubeletSocketName = 'kubelet.sock';
/** The checkpoint's name beside it (upstream kubeletDeviceManagerCheckpoint). */
export const deviceManagerCheckpointName = 'kubelet_internal_checkpoint';

/** One device as ListAndWatch reports it (its topology may be left out where the kubelet makes one). */
export type PluginDevice = Omit<DevicePluginDevice, 'topology'> & {
  topology?: DevicePluginDevice['topology'];
};

/** One container's part of an AllocateResponse: what CreateContainer is given (as received, or as kept in the checkpoint). */
export type ContainerAllocateResponse = MessageInit<WireContainerAllocateResponse>;

/** DevicePluginOptions as GetDevicePluginOptions answers them. */
export type DevicePluginOptions = WireDevicePluginOptions;
