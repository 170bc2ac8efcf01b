// In-process Kubernetes API server and EndpointSlice controller: see README.md.
export { ApiError, type StatusCause, type StatusObject } from './api-error';
export { type ApiServer, type ApiServerOptions, startApiServer } from './api-server';
export {
  CONTROLLER_NAME,
  type EndpointSliceController,
  type EndpointSliceControllerOptions,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
  startEndpointSliceController,
} from './endpointslice-controller';
export type { FailNextOptions, FaultInjector } from './fault-injector';
export type { KubeObject, ObjectMeta, WatchEventType } from './kube-object';
export { kubeconfigYaml } from './kubeconfig';
export { type KubeletClientOptions, type KubeletLocation, kubeletLocationForPod } from './kubelet-connection';
export { matchesLabels, matchesStructuredSelector, parseLabelSelector } from './label-selector';
export type { ObjectStore, StoredEvent } from './object-store';
export { kubeletPathFor, POD_PROXY_SUBRESOURCES, type PodProxySubresource } from './pod-proxy-subresources';
export type { DeleteOptions, ResourceRegistry, WriteOptions } from './resource-registry';
export { RESOURCE_TYPES, type ResourceType } from './resource-types';
export { CertificateError } from './self-signed-cert';
