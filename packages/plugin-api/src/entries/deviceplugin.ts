// @nodeagent/plugin-api/deviceplugin: the device plugin API v1beta1, the kubelet's Registration
// service and a plugin's DevicePlugin service, with their messages.

export {
  type AllocateRequest,
  type AllocateResponse,
  type ContainerAllocateRequest,
  type ContainerAllocateResponse,
  type ContainerPreferredAllocationRequest,
  type ContainerPreferredAllocationResponse,
  DEVICE_PLUGIN_REGISTRATION_V1BETA1_SERVICE,
  DEVICE_PLUGIN_V1BETA1_SERVICE,
  type DevicePluginDevice,
  type DevicePluginOptions,
  type DevicePluginRegistrationV1beta1Definition,
  type DevicePluginRegistrationV1beta1Server,
  type DevicePluginV1beta1Definition,
  type DevicePluginV1beta1Server,
  type DeviceSpec,
  devicePluginRegistrationV1beta1Service,
  devicePluginV1beta1Service,
  type Empty,
  type ListAndWatchResponse,
  type Mount,
  type PreferredAllocationRequest,
  type PreferredAllocationResponse,
  type PreStartContainerRequest,
  type PreStartContainerResponse,
  type RegisterRequest,
} from '../deviceplugin-v1beta1';
export type { CDIDevice, NUMANode, TopologyInfo } from '../topology';
