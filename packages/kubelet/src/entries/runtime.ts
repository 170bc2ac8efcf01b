// @nodeagent/kubelet/runtime: The PodRuntime seam over the CRI, the runtime stack composed over a
// CRI client, runtime state and the start limiter.
export { criPodRuntime } from '../cri/cri-pod-runtime';
export type {
  ExecResult,
  ImagePullAuth,
  PodRuntime,
  RuntimeFeatures,
  RuntimeHandlerFeatures,
} from '../cri/pod-runtime';
export { type RuntimeClassObject, runtimeClassHandlerLookup } from '../cri/runtime-class';
export * from '../cri/runtime-state';
export { defaultMaxParallelPodStarts, StartLimiter, type StartStep } from '../cri/start-limiter';
export {
  type CriRuntimeStack,
  criRuntimeStack,
  podRuntimeStack,
  type RuntimeReaders,
} from '../runtime-stack';
