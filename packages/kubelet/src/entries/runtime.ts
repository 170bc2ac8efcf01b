// @nodeagent/kubelet/runtime: The PodRuntime seam over the CRI, the runtime stack composed over a
// CRI client, runtime state and the start limiter, the CPU and memory managers (cpuset of
// containers, cpu_manager_state and memory_manager_state, NUMA-pinned memory of the Static
// policy), the topology manager (NUMA-aligned admission over the CPU, device and memory
// managers' hints), and the node's iptables utility chains
// (makeIPTablesUtilChains).

export type { PendingAdmission } from '../admission/admit-handler';
export type { PluginResourceAllocations } from '../admission/resource-fit-admit';
export * from '../cpumanager/cpu-manager';
export { cpuManagerAdmitHandler } from '../cpumanager/cpu-manager-admit';
export * from '../cpumanager/cpu-manager-metrics';
export type { CpuAssignments, CpuManagerState } from '../cpumanager/cpu-manager-state';
export { CpuSet } from '../cpumanager/cpu-set';
export { type CpuInfo, CpuTopology, defaultSysfsRoot, discoverCpuTopology } from '../cpumanager/cpu-topology';
export { withContainerCpusets } from '../cpumanager/cpuset-runtime';
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
  DeviceAllocationError,
  type DeviceHealthStatus,
  type DeviceInstance,
  DeviceManager,
  type DeviceManagerOptions,
  endpointStopGracePeriodMs,
} from '../devicemanager/device-manager';
export { CorruptCheckpointError } from '../devicemanager/device-manager-checkpoint';
export {
  type DevicePluginConnections,
  DevicePluginWatcherHandler,
} from '../devicemanager/device-plugin-watcher-handler';
export { withContainerDevices } from '../devicemanager/device-runtime';
export { DevicePluginCallError } from '../devicemanager/plugin-endpoint';
export type { DeviceRunContainerOptions } from '../devicemanager/pod-devices';
export {
  MemoryManager,
  type MemoryManagerRuntime,
  type NoneMemoryPolicy,
} from '../memorymanager/memory-manager';
export {
  encodeMemoryManagerCheckpoint,
  type MemoryCheckpointContent,
  memoryCheckpointChecksum,
  memoryManagerStateFile,
  restoreMemoryManagerCheckpoint,
  writeMemoryManagerCheckpoint,
} from '../memorymanager/memory-manager-checkpoint';
export { type MachineMemory, memoryManagerFromConfig } from '../memorymanager/memory-manager-config';
export * from '../memorymanager/memory-manager-metrics';
export { withContainerMemoryNodes } from '../memorymanager/memory-nodes-runtime';
export type {
  ContainerMemoryAssignments,
  MemoryBlock,
  MemoryTable,
  NumaNodeMap,
  NumaNodeState,
} from '../memorymanager/memory-state';
export { type NumaMemory, readNumaMemory } from '../memorymanager/numa-memory';
export type { SystemReservedMemory } from '../memorymanager/reserved-memory';
export { StaticMemoryPolicy } from '../memorymanager/static-memory-policy';
export { initNetworkUtil, type NetworkUtil, type NetworkUtilOptions } from '../network/init-network-util';
export {
  BLOCK_LOCALNET_RULE,
  KUBE_FIREWALL_CHAIN,
  KUBE_IPTABLES_HINT_CHAIN,
  KUBE_KUBELET_CANARY_CHAIN,
  syncIPTablesRules,
} from '../network/iptables-util-chains';
export type { RegisteredPlugin } from '../pluginmanager/actual-state';
export type { PluginHandler } from '../pluginmanager/plugin-handler';
export type { PluginManager } from '../pluginmanager/plugin-manager';
export {
  type ContainerDevicesAnswer,
  type ContainerMemoryAnswer,
  type ContainerResourcesAnswer,
  type DynamicResourceAnswer,
  type PodResourcesAnswer,
  podResourcesDefaultBurstTokens,
  podResourcesDefaultQps,
  podResourcesSocketName,
} from '../podresources/podresources-api';
export {
  type PodResourcesPods,
  PodResourcesServer,
  type PodResourcesServerOptions,
} from '../podresources/podresources-server';
export * from '../resource-managers';
export {
  type CriRuntimeStack,
  criRuntimeStack,
  podRuntimeStack,
  type RuntimeReaders,
} from '../runtime-stack';
export { type NumaNode, readNumaNodes } from '../topologymanager/numa-info';
export { NumaMask } from '../topologymanager/numa-mask';
export type { ResourceHints, TopologyHint } from '../topologymanager/topology-hint';
export {
  type HintProvider,
  TopologyManager,
  type TopologyManagerConfig,
  topologyAffinityError,
} from '../topologymanager/topology-manager';
export * from '../topologymanager/topology-manager-metrics';
