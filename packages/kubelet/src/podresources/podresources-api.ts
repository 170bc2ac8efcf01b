// The pod-resources API v1's wire format (messages, service, codecs) is @nodeagent/plugin-api's;
// what is here is the kubelet's side of it.

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

/** Memory of one type given to a container, with its NUMA nodes (ContainerMemory). */
export interface ContainerMemoryAnswer {
  memoryType: string;
  size: number;
  topology: { nodes: { ID: number }[] };
}

/** One container's resources (ContainerResources). */
export interface ContainerResourcesAnswer {
  name: string;
  devices: ContainerDevicesAnswer[];
  cpuIds: number[];
  memory: ContainerMemoryAnswer[];
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
