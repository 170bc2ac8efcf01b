// In-process Kubernetes API server and EndpointSlice controller: see README.md.
export { ApiError, type StatusCause, type StatusObject } from './api-error';
export { type ApiServer, type ApiServerOptions, startApiServer } from './api-server';
export { KUBEADM_NODE_TOKEN_GROUP } from './bootstrap-token';
export type { CertificateControllerOptions, CertificateControllers } from './csr-controllers';
export type { SigningCA } from './csr-signing-ca';
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
export { ADMIN_USER, type UserInfo } from './request-authentication';
export type { DeleteOptions, ResourceRegistry, WriteOptions } from './resource-registry';
export { RESOURCE_TYPES, type ResourceType } from './resource-types';
export { CertificateError } from './self-signed-cert';
