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
  apiEventRecorder,
  type PodEventRecorder,
  type PodEventType,
} from './api-event-recorder';
export { ApiPodSource, type ApiPodSourceHandlers, isMirrorPod } from './api-pod-source';
export { ApiServiceLister } from './api-service-lister';
export { isMirrorPodMissingError, MirrorPodMissingError } from './mirror-pod-missing';
export { MirrorPodSync, type MirrorPodSyncOptions } from './mirror-pod-sync';
export {
  isStaticPod,
  readStaticPods,
  type StaticPodFileError,
  StaticPodSource,
  type StaticPodSourceOptions,
  staticPodDefaults,
} from './static-pod-source';
