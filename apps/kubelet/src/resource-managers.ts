import type { KubeletConfiguration, KubeletLogger } from '@nodeagent/kubelet';
import {
  alignedComputeResourcesMetrics,
  type CpuManager,
  type CpuTopology,
  cpuManagerFromConfig,
  cpuManagerMetrics,
  discoverCpuTopology,
  type MemoryManager,
  memoryManagerFromConfig,
  memoryManagerMetrics,
  type PodRuntime,
  type ResourceManagerKubelet,
  startResourceManagers,
  type TopologyManager,
  type TopologyManagerMetrics,
  topologyManagerFromConfig,
  topologyManagerMetrics,
  withReservedSystemCpus,
} from '@nodeagent/kubelet/runtime';
import { formatDuration } from '@nodeagent/primitives';

/** The kubelet's metrics registry (prom-client's, as the metrics factories take it). */
type Registry = NonNullable<Parameters<typeof cpuManagerMetrics>[0]>;

/** Upstream's topology manager NewManager, with its first log line in its words. */
function topologyManagerForConfig(
  config: KubeletConfiguration,
  logger: KubeletLogger,
  metrics?: TopologyManagerMetrics,
): TopologyManager {
  if (config.topologyManagerPolicy === 'none') logger.info({}, 'Creating topology manager with none policy');
  else
    logger.info(
      { topologyPolicyName: config.topologyManagerPolicy, topologyScopeName: config.topologyManagerScope },
      'Creating topology manager with policy per scope',
    );
  return topologyManagerFromConfig(config, undefined, logger, metrics);
}

/**
 * Upstream's server.go and NewContainerManager for the topology and CPU managers:
 * reservedSystemCPUs applied to the configuration (it becomes systemReserved cpu, so allocatable
 * and the reserved cgroups count it), the topology manager built, then the CPU manager built (the
 * caller adds it to the topology manager after the device manager, upstream's order of hint
 * providers: device, CPU, memory); options upstream accepts that this kubelet does
 * not apply are named in a warning. Both count on `registry` (upstream's kubelet_cpu_manager_*,
 * kubelet_topology_manager_* and the aligned-compute counters they share). Throws
 * ResourceManagerError, which stops the start.
 */
export function cpuManagerForConfig(
  config: KubeletConfiguration,
  rootDir: string,
  logger: KubeletLogger,
  registry?: Registry,
): { config: KubeletConfiguration; cpuManager: CpuManager; topologyManager: TopologyManager } {
  let topology: CpuTopology | undefined;
  const machine = () => {
    topology ??= discoverCpuTopology();
    return topology;
  };
  const applied = withReservedSystemCpus(config, machine);
  const aligned = alignedComputeResourcesMetrics(registry);
  const topologyManager = topologyManagerForConfig(
    applied,
    logger,
    topologyManagerMetrics(registry, aligned),
  );
  const cpuManager = cpuManagerFromConfig(
    applied,
    rootDir,
    topology,
    logger,
    cpuManagerMetrics(registry, aligned),
  );
  for (const option of cpuManager.ignoredOptions)
    logger.warn(
      { field: 'cpuManagerPolicyOptions', option },
      `KubeletConfiguration field cpuManagerPolicyOptions option ${option} is not supported by this kubelet and has no effect`,
    );
  return { config: applied, cpuManager, topologyManager };
}

/**
 * Upstream's NewContainerManager for the memory manager: built from memoryManagerPolicy and
 * reservedMemory (the Static policy reads the NUMA nodes' memory from /sys) and added to the
 * topology manager after the CPU manager; the Static policy counts on `registry`. Throws
 * ResourceManagerError, which stops the start.
 */
export function memoryManagerForConfig(
  config: KubeletConfiguration,
  rootDir: string,
  topologyManager: TopologyManager,
  registry?: Registry,
): MemoryManager {
  const manager = memoryManagerFromConfig(config, rootDir, {}, memoryManagerMetrics(registry));
  topologyManager.addHintProvider(manager);
  return manager;
}

/**
 * The CPU and memory managers started over the built kubelet (upstream's container manager
 * Start); stale assignments wait until the pod sources are ready (markSourcesReady).
 */
export function startCpuAndMemoryManagers(
  cpuManager: CpuManager,
  memoryManager: MemoryManager,
  kubelet: ResourceManagerKubelet,
  runtime: Pick<PodRuntime, 'updateContainerResources'>,
  rootDir: string,
  logger: KubeletLogger,
): () => void {
  // Upstream's start lines, in its words.
  logger.info({ policy: cpuManager.policy.name }, 'Starting CPU manager');
  logger.info({ reconcilePeriod: formatDuration(cpuManager.reconcilePeriodMs) }, 'Reconciling');
  if (cpuManager.policy.name === 'static')
    logger.info(
      { reservedSize: cpuManager.policy.reserved.size, reserved: cpuManager.policy.reserved.toString() },
      'Reserved CPUs not available for exclusive assignment',
    );
  logger.info({ policy: memoryManager.policy.name }, 'Starting memorymanager');
  startResourceManagers(cpuManager, kubelet, runtime, {
    rootDir,
    onReconcileError: (error, containerId) =>
      logger.error({ err: String(error), containerId }, 'ReconcileState: failed to update container'),
    waitForSources: true,
    memoryManager,
    onMemoryStoreError: (error) =>
      logger.error({ err: String(error) }, 'Failed to store state to checkpoint'),
  });
  return () => cpuManager.stop();
}
