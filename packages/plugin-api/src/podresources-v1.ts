import type { handleUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { MessageInit } from './message-init';
import { pluginServiceDefinition } from './plugin-services';
import type { PluginMethod } from './service-definition';
import type { CDIDevice, TopologyInfo } from './topology';

// The pod-resources API v1 (package `v1`): the kubelet serves it on
// <root-dir>/pod-resources/kubelet.sock for monitoring agents and device plugins.

/** One container's (or the node's allocatable) devices of one resource. */
export interface ContainerDevices {
  resourceName: string;
  deviceIds: string[];
  topology: TopologyInfo | null;
}

/** One memory block of one type (`memory`, `hugepages-1Gi`). */
export interface ContainerMemory {
  memoryType: string;
  size: number;
  topology: TopologyInfo | null;
}

/** One DRA device a claim gave a container. */
export interface ClaimResource {
  cdiDevices: CDIDevice[];
  driverName: string;
  poolName: string;
  deviceName: string;
}

/** One ResourceClaim a container uses, with its devices. */
export interface DynamicResource {
  claimName: string;
  claimNamespace: string;
  claimResources: ClaimResource[];
}

/** One container's resources. */
export interface ContainerResources {
  name: string;
  devices: ContainerDevices[];
  cpuIds: number[];
  memory: ContainerMemory[];
  dynamicResources: DynamicResource[];
}

/** One pod's resources. */
export interface PodResources {
  name: string;
  namespace: string;
  containers: ContainerResources[];
}

/** List's request (empty). */
export type ListPodResourcesRequest = Record<string, never>;

/** List's answer: every pod's resources. */
export interface ListPodResourcesResponse {
  podResources: PodResources[];
}

/** GetAllocatableResources's request (empty). */
export type AllocatableResourcesRequest = Record<string, never>;

/** What the node can allocate: devices, exclusive CPUs, memory. */
export interface AllocatableResourcesResponse {
  devices: ContainerDevices[];
  cpuIds: number[];
  memory: ContainerMemory[];
}

/** Get's request: one pod by name and namespace. */
export interface GetPodResourcesRequest {
  podName: string;
  podNamespace: string;
}

/** Get's answer. */
export interface GetPodResourcesResponse {
  podResources: PodResources | null;
}

/** `v1.PodResourcesLister` as grpc-js serves and calls it. */
export type PodResourcesV1Definition = ServiceDefinition & {
  List: PluginMethod<ListPodResourcesRequest, ListPodResourcesResponse>;
  GetAllocatableResources: PluginMethod<AllocatableResourcesRequest, AllocatableResourcesResponse>;
  Get: PluginMethod<GetPodResourcesRequest, GetPodResourcesResponse>;
};

/** The kubelet's handlers of `v1.PodResourcesLister`, for `server.addService`. */
export interface PodResourcesV1Server extends UntypedServiceImplementation {
  List: handleUnaryCall<ListPodResourcesRequest, MessageInit<ListPodResourcesResponse>>;
  GetAllocatableResources: handleUnaryCall<
    AllocatableResourcesRequest,
    MessageInit<AllocatableResourcesResponse>
  >;
  Get: handleUnaryCall<GetPodResourcesRequest, MessageInit<GetPodResourcesResponse>>;
}

/** The full name of the pod-resources service. */
export const POD_RESOURCES_V1_SERVICE = 'v1.PodResourcesLister';

/** `v1.PodResourcesLister` (List, GetAllocatableResources, Get). */
export const podResourcesV1Service: PodResourcesV1Definition =
  /* @__PURE__ */ pluginServiceDefinition<PodResourcesV1Definition>(POD_RESOURCES_V1_SERVICE);
