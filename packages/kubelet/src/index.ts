// Public surface of @nodeagent/kubelet: the Kubelet and what an agent needs to wire one (config,
// the CRI runtime, pod sources, the HTTP server, metrics). Building blocks live at named subpaths:
// /admission /api /certificates /cgroups /config /cri /eviction /images /logs /metrics /pod
// /runtime /server /sources /stats /volumes /testing.

// The configuration's entry points the kubelet binary uses are here too (they are also at
// /config, which loads without the rest of the kubelet).
export { mergeConfigurationDropIns } from './config/config-drop-ins';
export { unsupportedFieldWarnings } from './config/field-support';
export {
  defaultKubeletConfiguration,
  type KubeletConfiguration,
  type KubeletConfigurationInput,
  kubeletConfigurationApiVersion,
  kubeletConfigurationKind,
  type ParsedKubeletConfiguration,
  parseKubeletConfiguration,
} from './config/kubelet-configuration';
export {
  applyConfigurationOverrides,
  loadKubeletConfigurationFile,
  readKubeletConfigurationFile,
} from './config/load-config-file';
export { applyV1beta1ZeroDefaults } from './config/v1beta1-defaults';
export { criPodRuntime } from './cri/cri-pod-runtime';
export type { PodRuntime } from './cri/pod-runtime';
export { runtimeClassHandlerLookup } from './cri/runtime-class';
// Also at /config, which loads without the rest of the kubelet.
export { setupDataDirs } from './data-dirs';
// The typed errors, the same list as /errors.
export * from './entries/errors';
export { nodeAllocatableEnforcedMessage, nodeStatusEventMessage } from './events/event-reasons';
export { criImageService, type ImageService } from './images/image-service';
export { Kubelet, type KubeletOptions } from './kubelet';
export type { KubeletLogger } from './kubelet-logger';
export { collectProcessMetrics, createKubeletMetrics, type KubeletMetrics } from './metrics';
export { PodObjectManager } from './objects/pod-object-manager';
export { rfc3339 } from './rfc3339';
export {
  createHealthzServer,
  createKubeletServer,
  type KubeletServerOptions,
  listen,
  type RunningServer,
} from './server/kubelet-server';
export {
  type Authenticator,
  type Authorizer,
  alwaysAllow,
  kubeletAuthenticator,
  subjectAccessReviewAuthorizer,
} from './server/server-auth';
export { criStreamingRuntime, type StreamingRuntime } from './server/streaming-runtime';
export { apiTokenSource, syncMirrorPods } from './sources/api-clients';
export { apiEventRecorder, apiEventSink } from './sources/api-event-recorder';
export { ApiPodSource } from './sources/api-pod-source';
export { ApiServiceLister } from './sources/api-service-lister';
export { StaticPodSource } from './sources/static-pod-source';
export { CriSummaryProvider, type SummaryProvider } from './stats/summary-provider';
export { apiPodStatusWriter } from './status/api-pod-status-writer';
