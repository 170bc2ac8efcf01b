// @nodeagent/testing/apiserver: the in-process Kubernetes API server, its controllers and the
// control plane built from them: see README.md and docs/reference/testing.md.

export type {
  AccessDecision,
  AccessGrant,
  AccessReviewSpec,
  AccessReviews,
  GrantSubject,
  PolicyRule,
  ResourceAttributes,
} from './access-reviews';
export { ApiError, type StatusCause, type StatusObject } from './api-error';
export { type ApiServer, type ApiServerOptions, startApiServer } from './api-server';
export { KUBEADM_NODE_TOKEN_GROUP } from './bootstrap-token';
export {
  type ControlPlane,
  type ControlPlaneOptions,
  type NodeLifecycleControllerOptions,
  type ReplicaSetControllerOptions,
  type SchedulerOptions,
  startControlPlane,
} from './control-plane';
export {
  type ControllerClock,
  type ControllerTimer,
  controllerClock,
  ManualClock,
  systemClock,
} from './controller-clock';
export type { RunningController } from './controller-queue';
export type { CertificateControllerOptions, CertificateControllers } from './csr-controllers';
export type { SigningCA } from './csr-signing-ca';
export { type DeploymentController, podTemplateHash } from './deployment-controller';
export { DeviceSelectorError, isDeviceSelectorError } from './dra-cel';
export { CLAIM_PROTECTION_FINALIZER } from './dra-scheduling';
export {
  CONTROLLER_NAME,
  type EndpointSliceController,
  type EndpointSliceControllerOptions,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
  startEndpointSliceController,
} from './endpointslice-controller';
export type { FailNextOptions, FaultInjector } from './fault-injector';
export { type FieldRequirement, type FieldSelector, parseFieldSelector } from './field-selector';
export type { ApiRequest, ApiResponse } from './http-exchange';
export type { InitialEventsSent } from './initial-events-stream';
export { k8sProtobufRoot, k8sProtobufType } from './k8s-proto-schema';
export type { KubeObject, ObjectMeta, WatchEventType } from './kube-object';
export { kubeconfigYaml } from './kubeconfig';
export { type KubeletClientOptions, type KubeletLocation, kubeletLocationForPod } from './kubelet-connection';
export {
  type LabelRequirement,
  type LabelSelector,
  matchesLabels,
  matchesStructuredSelector,
  parseLabelSelector,
} from './label-selector';
export type { LowestFreeAllocator } from './lowest-free-allocator';
export { NODE_LIFECYCLE_DEFAULTS, type NodeLifecycleController } from './node-lifecycle-controller';
export type { ObjectStore, StoredEvent, StoreListener } from './object-store';
export type { FieldValidation } from './object-validation';
export type { PodGarbageCollector } from './pod-garbage-collector';
export {
  kubeletPathFor,
  POD_PROXY_SUBRESOURCES,
  type PodProxySubresource,
  type PodStreamUpgrade,
} from './pod-proxy-subresources';
export { ProtobufEncodingError } from './protobuf-encoding';
export { encodeProtobufObject, encodeProtobufWatchEvent, PROTOBUF_MAGIC } from './protobuf-envelope';
export type { ReplicaSetController } from './replicaset-controller';
export { ADMIN_USER, type UserInfo } from './request-authentication';
export type { RequestObserver } from './request-observers';
export {
  POD_CLAIM_NAME_ANNOTATION,
  type ResourceClaimController,
} from './resource-claim-controller';
export type { DeleteOptions, ResourceRegistry, WriteOptions } from './resource-registry';
export { RESOURCE_TYPES, type ResourceType } from './resource-types';
export { DEFAULT_SCHEDULER_NAME, type Scheduler } from './scheduler';
export { CertificateError } from './self-signed-cert';
export type { ServiceAddressIndex } from './service-address-index';
export { addServiceCluster, type ServiceClusterShape } from './service-cluster';
export type { TaintEvictionController } from './taint-eviction-controller';
export {
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  type Taint,
  type Toleration,
} from './taints';
export type { WatchStreamSettings } from './watch-hub';
