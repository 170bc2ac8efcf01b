// @nodeagent/kubelet/runtime: The PodRuntime seam over the CRI, runtime state and the start limiter.
export { criPodRuntime } from './cri-pod-runtime';
export type { ExecResult, ImagePullAuth, PodRuntime, RuntimeFeatures } from './pod-runtime';
export { type RuntimeClassObject, runtimeClassHandlerLookup } from './runtime-class';
export * from './runtime-state';
export { defaultMaxParallelPodStarts, StartLimiter, type StartStep } from './start-limiter';
