// @nodeagent/kubelet/sources: Where pods come from (API server, static pod files), the API clients the kubelet writes with,
// and the node's pod CIDR handed to the runtime (from podCIDR or the Node's spec.podCIDRs).

export { isMirrorPod, isStaticPod } from '../api/config-source';
export { nodeEventReasons } from '../events/event-reasons';
export { objectTtlAnnotation, objectTtlFromNode } from '../objects/object-ttl-annotation';
export {
  type ChangeDetectionStrategy,
  PodObjectManager,
  type PodObjectManagerOptions,
} from '../objects/pod-object-manager';
export { podConfigMapNames, podSecretNames } from '../objects/referenced-objects';
export { isMirrorPodOf } from '../pod/mirror-pod';
export { MirrorPods } from '../pod/mirror-pods';
export { isPodFromSource } from '../pod/pod-source';
export { apiTokenSource, mirrorPodFor, syncMirrorPods } from '../sources/api-clients';
export {
  type ApiEventRecorderOptions,
  type ApiEventSink,
  apiEventRecorder,
  apiEventSink,
  type ClaimEventRecorder,
  type EventApi,
  type EventWriteFailure,
  eventRetrySleepMs,
  maxQueuedEvents,
  maxTriesPerEvent,
  type NodeEventRecorder,
  type PodEventMemory,
  type PodEventRecorder,
  type PodEventType,
} from '../sources/api-event-recorder';
export {
  ApiNodePodCidrSource,
  type ApiNodePodCidrSourceOptions,
  stripNodeToPodCidrs,
  type WireNodePodCidrs,
} from '../sources/api-node-pod-cidr';
export { ApiPodSource, type ApiPodSourceHandlers } from '../sources/api-pod-source';
export {
  ApiServiceLister,
  type ApiServiceListerOptions,
  type WireService,
} from '../sources/api-service-lister';
export { HttpPodSource, type HttpPodSourceOptions, podsFromManifest } from '../sources/http-pod-source';
export { MirrorPodSync, type MirrorPodSyncOptions } from '../sources/mirror-pod-sync';
export {
  readStaticPods,
  type StaticPodFileError,
  type StaticPodOrigin,
  StaticPodSource,
  type StaticPodSourceOptions,
  staticPodDefaults,
  staticPodDefaultsFrom,
} from '../sources/static-pod-source';
export { apiPodStatusWriter } from '../status/api-pod-status-writer';
export { isMirrorPodMissingError, MirrorPodMissingError } from '../status/mirror-pod-missing';
// The runtime's pod CIDR, from the config's podCIDR and the Node's spec.podCIDRs (CRI UpdateRuntimeConfig).
export {
  nodePodCidr,
  nodePodCidrUpdateFailedMessage,
  podCidrUpdateFailedMessage,
  RuntimePodCidr,
} from '../sync/runtime-pod-cidr';
