import type { KubeletConfiguration, KubeletLogger } from '@nodeagent/kubelet';
import {
  type CpuManager,
  type CpuTopology,
  cpuManagerFromConfig,
  discoverCpuTopology,
  type MemoryManager,
  memoryManagerFromConfig,
  type PodRuntime,
  type ResourceManagerKubelet,
  startResourceManagers,
  type TopologyManager,
  topologyManagerFromConfig,
  withReservedSystemCpus,
} from '@nodeagent/kubelet/runtime';
import { formatDuration } from '@nodeagent/primitives';

/** Upstream's topology manager NewManager, with its first log line in its words. */
function topologyManagerForConfig(config: KubeletConfiguration, logger: KubeletLogger): TopologyManager {
  if (config.topologyManagerPolicy === 'none') logger.info({}, 'Creating topology manager with none policy');
  else
    logger.info(
      { topologyPolicyName: config.topologyManagerPolicy, topologyScopeName: config.topologyManagerScope },
      'Creating topology manager with policy per scope',
    );
  return topologyManagerFromConfig(config, undefined, logger);
}

/**
 * Upstream's server.go and NewContainerManager for the topology and CPU managers:
 * reservedSystemCPUs applied to the configuration (it becomes systemReserved cpu, so allocatable
 * and the reserved cgroups count it), the topology manager built, then the CPU manager built and
 * added as the topology manager's hint provider; options upstream accepts that this kubelet does
 * not apply are named in a warning. Throws ResourceManagerError, which stops the start.
 */
export function cpuManagerForConfig(
  config: KubeletConfiguration,
  rootDir: string,
  logger: KubeletLogger,
): { config: KubeletConfiguration; cpuManager: CpuManager; topologyManager: TopologyManager } {
  let topology: CpuTopology | undefined;
  const machine = () => {
    topology ??= discoverCpuTopology();
    return topology;
  };
  const applied = withReservedSystemCpus(config, machine);
  const topologyManager = topologyManagerForConfig(applied, logger);
  const cpuManager = cpuManagerFromConfig(applied, rootDir, topology, logger);
  for (const option of cpuManager.ignoredOptions)
    logger.warn(
      { field: 'cpuManagerPolicyOptions', option },
      `KubeletConfiguration field cpuManagerPolicyOptions option ${option} is not supported by this kubelet and has no effect`,
    );
  topologyManager.addHintProvider(cpuManager);
  return { config: applied, cpuManager, topologyManager };
}

/**
 * Upstream's NewContainerManager for the memory manager: built from memoryManagerPolicy and
 * reservedMemory (the Static policy reads the NUMA nodes' memory from /sys) and added to the
 * topology manager after the CPU manager. Throws ResourceManagerError, which stops the start.
 */
export function memoryManagerForConfig(
  config: KubeletConfiguration,
  rootDir: string,
  topologyManager: TopologyManager,
): MemoryManager {
  const manager = memoryManagerFromConfig(config, rootDir);
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
