/**
 * Upstream's device plugin API v1beta1 (k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1/api.proto),
 * vendored as the wire format it is: the message and service definitions only (comments dropped).
 * scripts/generate-plugin-codecs.ts turns it into the codecs under generated/.
 */
export const devicePluginV1beta1Proto = `syntax = "proto3";
package v1beta1;
service Registration {
  rpc Register(RegisterRequest) returns (Empty) {}
}
message DevicePluginOptions {
  bool pre_start_required = 1;
  bool get_preferred_allocation_available = 2;
}
message RegisterRequest {
  string version = 1;
  string endpoint = 2;
  string resource_name = 3;
  DevicePluginOptions options = 4;
}
message Empty {
}
service DevicePlugin {
  rpc GetDevicePluginOptions(Empty) returns (DevicePluginOptions) {}
  rpc ListAndWatch(Empty) returns (stream ListAndWatchResponse) {}
  rpc GetPreferredAllocation(PreferredAllocationRequest) returns (PreferredAllocationResponse) {}
  rpc Allocate(AllocateRequest) returns (AllocateResponse) {}
  rpc PreStartContainer(PreStartContainerRequest) returns (PreStartContainerResponse) {}
}
message ListAndWatchResponse {
  repeated Device devices = 1;
}
message TopologyInfo {
  repeated NUMANode nodes = 1;
}
message NUMANode {
  int64 ID = 1;
}
message Device {
  string ID = 1;
  string health = 2;
  TopologyInfo topology = 3;
}
message PreStartContainerRequest {
  repeated string devices_ids = 1;
}
message PreStartContainerResponse {
}
message PreferredAllocationRequest {
  repeated ContainerPreferredAllocationRequest container_requests = 1;
}
message ContainerPreferredAllocationRequest {
  repeated string available_deviceIDs = 1;
  repeated string must_include_deviceIDs = 2;
  int32 allocation_size = 3;
}
message PreferredAllocationResponse {
  repeated ContainerPreferredAllocationResponse container_responses = 1;
}
message ContainerPreferredAllocationResponse {
  repeated string deviceIDs = 1;
}
message AllocateRequest {
  repeated ContainerAllocateRequest container_requests = 1;
}
message ContainerAllocateRequest {
  repeated string devices_ids = 1;
}
message CDIDevice {
  string name = 1;
}
message AllocateResponse {
  repeated ContainerAllocateResponse container_responses = 1;
}
message ContainerAllocateResponse {
  map<string, string> envs = 1;
  repeated Mount mounts = 2;
  repeated DeviceSpec devices = 3;
  map<string, string> annotations = 4;
  repeated CDIDevice cdi_devices = 5;
}
message Mount {
  string container_path = 1;
  string host_path = 2;
  bool read_only = 3;
}
message DeviceSpec {
  string container_path = 1;
  string host_path = 2;
  string permissions = 3;
}
`;

/** Upstream's constants.go: the one API version the kubelet speaks and the health words. */
export const devicePluginApiVersion = 'v1beta1';
export const healthyDevice = 'Healthy';
export const unhealthyDevice = 'Unhealthy';
/** The registration socket's name under `<root-dir>/device-plugins/` (upstream KubeletSocket). */
export const kubeletSocketName = 'kubelet.sock';
/** The checkpoint's name beside it (upstream kubeletDeviceManagerCheckpoint). */
export const deviceManagerCheckpointName = 'kubelet_internal_checkpoint';

/** One device as ListAndWatch reports it (protobufjs camel-cases `ID` to `ID`, `health`...). */
export interface PluginDevice {
  ID: string;
  health: string;
  topology?: { nodes?: { ID?: number | string | { toString(): string } }[] } | null;
}

/** One container's part of an AllocateResponse: what CreateContainer is given. */
export interface ContainerAllocateResponse {
  envs?: Record<string, string>;
  mounts?: { containerPath?: string; hostPath?: string; readOnly?: boolean }[];
  devices?: { containerPath?: string; hostPath?: string; permissions?: string }[];
  annotations?: Record<string, string>;
  cdiDevices?: { name?: string }[];
}

/** DevicePluginOptions as GetDevicePluginOptions answers them. */
export interface DevicePluginOptions {
  preStartRequired?: boolean;
  getPreferredAllocationAvailable?: boolean;
}
