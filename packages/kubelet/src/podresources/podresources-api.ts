/**
 * Upstream's pod-resources API v1 (k8s.io/kubelet/pkg/apis/podresources/v1/api.proto), vendored
 * as the wire format it is (gogoproto options and comments dropped); scripts/generate-plugin-codecs.ts
 * turns it into the codecs under devicemanager/generated/.
 */
export const podResourcesV1Proto = `syntax = "proto3";
package v1;
service PodResourcesLister {
  rpc List(ListPodResourcesRequest) returns (ListPodResourcesResponse) {}
  rpc GetAllocatableResources(AllocatableResourcesRequest) returns (AllocatableResourcesResponse) {}
  rpc Get(GetPodResourcesRequest) returns (GetPodResourcesResponse) {}
}
message AllocatableResourcesRequest {}
message AllocatableResourcesResponse {
  repeated ContainerDevices devices = 1;
  repeated int64 cpu_ids = 2;
  repeated ContainerMemory memory = 3;
}
message ListPodResourcesRequest {}
message ListPodResourcesResponse {
  repeated PodResources pod_resources = 1;
}
message PodResources {
  string name = 1;
  string namespace = 2;
  repeated ContainerResources containers = 3;
}
message ContainerResources {
  string name = 1;
  repeated ContainerDevices devices = 2;
  repeated int64 cpu_ids = 3;
  repeated ContainerMemory memory = 4;
  repeated DynamicResource dynamic_resources = 5;
}
message ContainerMemory {
  string memory_type = 1;
  uint64 size = 2;
  TopologyInfo topology = 3;
}
message ContainerDevices {
  string resource_name = 1;
  repeated string device_ids = 2;
  TopologyInfo topology = 3;
}
message TopologyInfo {
  repeated NUMANode nodes = 1;
}
message NUMANode {
  int64 ID = 1;
}
message DynamicResource {
  reserved 1;
  string claim_name = 2;
  string claim_namespace = 3;
  repeated ClaimResource claim_resources = 4;
}
message ClaimResource {
  repeated CDIDevice cdi_devices = 1;
  string driver_name = 2;
  string pool_name = 3;
  string device_name = 4;
}
message CDIDevice {
  string name = 1;
}
message GetPodResourcesRequest {
  string pod_name = 1;
  string pod_namespace = 2;
}
message GetPodResourcesResponse {
  PodResources pod_resources = 1;
}
`;

/** The socket under `<root-dir>/pod-resources/` (upstream podresources.Socket). */
export const podResourcesSocketName = 'kubelet.sock';

/** Upstream's podresources/grpc DefaultQPS and DefaultBurstTokens: the server's rate limit. */
export const podResourcesDefaultQps = 100;
/** Upstream's podresources/grpc DefaultBurstTokens: the burst the server's rate limit allows. */
export const podResourcesDefaultBurstTokens = 10;

/** One container's devices of one resource, as the API answers them. */
export interface ContainerDevicesAnswer {
  resourceName: string;
  deviceIds: string[];
  topology?: { nodes: { ID: number }[] };
}

/** One container's resources (ContainerResources). */
export interface ContainerResourcesAnswer {
  name: string;
  devices: ContainerDevicesAnswer[];
  cpuIds: number[];
  memory: { memoryType: string; size: number }[];
  dynamicResources: DynamicResourceAnswer[];
}

/** One ResourceClaim a container uses, with what its drivers prepared (DynamicResource). */
export interface DynamicResourceAnswer {
  claimName: string;
  claimNamespace: string;
  claimResources: {
    cdiDevices: { name: string }[];
    driverName: string;
    poolName: string;
    deviceName: string;
  }[];
}

/** One pod's resources (PodResources). */
export interface PodResourcesAnswer {
  name: string;
  namespace: string;
  containers: ContainerResourcesAnswer[];
}
