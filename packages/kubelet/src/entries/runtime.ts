// @nodeagent/kubelet/runtime: The PodRuntime seam over the CRI, the runtime stack composed over a
// CRI client, runtime state and the start limiter, and the CPU and memory managers (cpuset of
// containers, cpu_manager_state and memory_manager_state).
export * from '../cpumanager/cpu-manager';
export { cpuManagerAdmitHandler } from '../cpumanager/cpu-manager-admit';
export type { CpuAssignments, CpuManagerState } from '../cpumanager/cpu-manager-state';
export { CpuSet } from '../cpumanager/cpu-set';
export { type CpuInfo, CpuTopology, defaultSysfsRoot, discoverCpuTopology } from '../cpumanager/cpu-topology';
export { withContainerCpusets } from '../cpumanager/cpuset-runtime';
export * from '../cpumanager/kubelet-resource-managers';
export type { StaticPolicyOptions } from '../cpumanager/policy-options';
export { ResourceManagerError } from '../cpumanager/resource-manager-error';
export { StaticPolicy } from '../cpumanager/static-policy';
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
