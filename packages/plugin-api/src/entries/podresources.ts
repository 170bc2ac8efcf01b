// @nodeagent/plugin-api/podresources: the pod-resources API v1 the kubelet serves, with its messages.

export {
  type AllocatableResourcesRequest,
  type AllocatableResourcesResponse,
  type ClaimResource,
  type ContainerDevices,
  type ContainerMemory,
  type ContainerResources,
  type DynamicResource,
  type GetPodResourcesRequest,
  type GetPodResourcesResponse,
  type ListPodResourcesRequest,
  type ListPodResourcesResponse,
  POD_RESOURCES_V1_SERVICE,
  type PodResources,
  type PodResourcesV1Definition,
  type PodResourcesV1Server,
  podResourcesV1Service,
} from '../podresources-v1';
export type { CDIDevice, NUMANode, TopologyInfo } from '../topology';
