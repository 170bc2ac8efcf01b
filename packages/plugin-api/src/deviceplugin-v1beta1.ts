import type {
  handleServerStreamingCall,
  handleUnaryCall,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { MessageInit } from './message-init';
import { pluginServiceDefinition } from './plugin-services';
import type { PluginMethod } from './service-definition';
import type { CDIDevice, TopologyInfo } from './topology';

// The device plugin API v1beta1 (package `v1beta1`): a plugin registers with the kubelet's
// Registration service on <root-dir>/device-plugins/kubelet.sock, then serves DevicePlugin on the
// socket it named.

/** An empty message (Register's answer, GetDevicePluginOptions's and ListAndWatch's request). */
export type Empty = Record<string, never>;

/** What a plugin supports beyond Allocate. */
export interface DevicePluginOptions {
  preStartRequired: boolean;
  getPreferredAllocationAvailable: boolean;
}

/** A plugin's registration with the kubelet. */
export interface RegisterRequest {
  /** The API version, `v1beta1`. */
  version: string;
  /** The plugin's socket name, relative to the kubelet's device-plugins directory. */
  endpoint: string;
  /** The extended resource it serves (`vendor.com/gpu`). */
  resourceName: string;
  options: DevicePluginOptions | null;
}

/** One device as ListAndWatch reports it. */
export interface DevicePluginDevice {
  ID: string;
  /** `Healthy` or `Unhealthy`. */
  health: string;
  topology: TopologyInfo | null;
}

/** One answer of ListAndWatch: every device of the resource. */
export interface ListAndWatchResponse {
  devices: DevicePluginDevice[];
}

/** PreStartContainer's request: the devices about to be given to a container. */
export interface PreStartContainerRequest {
  devicesIds: string[];
}

/** PreStartContainer's answer (empty). */
export type PreStartContainerResponse = Record<string, never>;

/** One container's choice to make: from which devices, which must be in, how many. */
export interface ContainerPreferredAllocationRequest {
  availableDeviceIDs: string[];
  mustIncludeDeviceIDs: string[];
  allocationSize: number;
}

/** GetPreferredAllocation's request, one entry per container. */
export interface PreferredAllocationRequest {
  containerRequests: ContainerPreferredAllocationRequest[];
}

/** The devices a plugin prefers for one container. */
export interface ContainerPreferredAllocationResponse {
  deviceIDs: string[];
}

/** GetPreferredAllocation's answer, one entry per container. */
export interface PreferredAllocationResponse {
  containerResponses: ContainerPreferredAllocationResponse[];
}

/** One container's devices to allocate. */
export interface ContainerAllocateRequest {
  devicesIds: string[];
}

/** Allocate's request, one entry per container. */
export interface AllocateRequest {
  containerRequests: ContainerAllocateRequest[];
}

/** A mount the container is given. */
export interface Mount {
  containerPath: string;
  hostPath: string;
  readOnly: boolean;
}

/** A device node the container is given. */
export interface DeviceSpec {
  containerPath: string;
  hostPath: string;
  /** cgroup permissions: `r`, `w`, `m`. */
  permissions: string;
}

/** What one container is given for its devices: what CreateContainer receives. */
export interface ContainerAllocateResponse {
  envs: Record<string, string>;
  mounts: Mount[];
  devices: DeviceSpec[];
  annotations: Record<string, string>;
  cdiDevices: CDIDevice[];
}

/** Allocate's answer, one entry per container. */
export interface AllocateResponse {
  containerResponses: ContainerAllocateResponse[];
}

/** `v1beta1.Registration` (served by the kubelet) as grpc-js serves and calls it. */
export type DevicePluginRegistrationV1beta1Definition = ServiceDefinition & {
  Register: PluginMethod<RegisterRequest, Empty>;
};

/** The kubelet's handler of `v1beta1.Registration`. */
export interface DevicePluginRegistrationV1beta1Server extends UntypedServiceImplementation {
  Register: handleUnaryCall<RegisterRequest, MessageInit<Empty>>;
}

/** `v1beta1.DevicePlugin` (served by a plugin) as grpc-js serves and calls it. */
export type DevicePluginV1beta1Definition = ServiceDefinition & {
  GetDevicePluginOptions: PluginMethod<Empty, DevicePluginOptions>;
  ListAndWatch: PluginMethod<Empty, ListAndWatchResponse>;
  GetPreferredAllocation: PluginMethod<PreferredAllocationRequest, PreferredAllocationResponse>;
  Allocate: PluginMethod<AllocateRequest, AllocateResponse>;
  PreStartContainer: PluginMethod<PreStartContainerRequest, PreStartContainerResponse>;
};

/** A device plugin's handlers of `v1beta1.DevicePlugin`, for `server.addService`. */
export interface DevicePluginV1beta1Server extends UntypedServiceImplementation {
  GetDevicePluginOptions: handleUnaryCall<Empty, MessageInit<DevicePluginOptions>>;
  ListAndWatch: handleServerStreamingCall<Empty, MessageInit<ListAndWatchResponse>>;
  GetPreferredAllocation: handleUnaryCall<
    PreferredAllocationRequest,
    MessageInit<PreferredAllocationResponse>
  >;
  Allocate: handleUnaryCall<AllocateRequest, MessageInit<AllocateResponse>>;
  PreStartContainer: handleUnaryCall<PreStartContainerRequest, MessageInit<PreStartContainerResponse>>;
}

/** The full name of the kubelet's device plugin registration service. */
export const DEVICE_PLUGIN_REGISTRATION_V1BETA1_SERVICE = 'v1beta1.Registration';
/** The full name of a device plugin's service. */
export const DEVICE_PLUGIN_V1BETA1_SERVICE = 'v1beta1.DevicePlugin';

/** `v1beta1.Registration`: the kubelet serves it, a device plugin calls Register. */
export const devicePluginRegistrationV1beta1Service: DevicePluginRegistrationV1beta1Definition =
  /* @__PURE__ */ pluginServiceDefinition<DevicePluginRegistrationV1beta1Definition>(
    DEVICE_PLUGIN_REGISTRATION_V1BETA1_SERVICE,
  );

/** `v1beta1.DevicePlugin` (ListAndWatch server-streaming): a device plugin serves it. */
export const devicePluginV1beta1Service: DevicePluginV1beta1Definition =
  /* @__PURE__ */ pluginServiceDefinition<DevicePluginV1beta1Definition>(DEVICE_PLUGIN_V1BETA1_SERVICE);
