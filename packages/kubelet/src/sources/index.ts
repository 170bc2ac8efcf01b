// @nodeagent/kubelet/sources: Where pods come from (API server, static pod files) and the API clients the kubelet writes with.
export {
  apiObjectSource,
  apiPodStatusWriter,
  apiTokenSource,
  mirrorPodFor,
  syncMirrorPods,
} from './api-clients';
export {
  type ApiEventRecorderOptions,
  type ApiEventSink,
  apiEventRecorder,
  apiEventSink,
  type PodEventRecorder,
  type PodEventType,
} from './api-event-recorder';
export { ApiPodSource, type ApiPodSourceHandlers, isMirrorPod } from './api-pod-source';
export { ApiServiceLister } from './api-service-lister';
export { HttpPodSource, type HttpPodSourceOptions, podsFromManifest } from './http-pod-source';
export { isMirrorPodMissingError, MirrorPodMissingError } from './mirror-pod-missing';
export { MirrorPodSync, type MirrorPodSyncOptions } from './mirror-pod-sync';
export {
  isPodFromSource,
  isStaticPod,
  readStaticPods,
  type StaticPodFileError,
  type StaticPodOrigin,
  StaticPodSource,
  type StaticPodSourceOptions,
  staticPodDefaults,
  staticPodDefaultsFrom,
} from './static-pod-source';
