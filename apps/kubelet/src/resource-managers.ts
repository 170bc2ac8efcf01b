import type { KubeletConfiguration, KubeletLogger } from '@nodeagent/kubelet';
import {
  type CpuManager,
  type CpuTopology,
  cpuManagerFromConfig,
  discoverCpuTopology,
  type PodRuntime,
  type ResourceManagerKubelet,
  startResourceManagers,
  withReservedSystemCpus,
} from '@nodeagent/kubelet/runtime';
import { formatDuration } from '@nodeagent/primitives';

/**
 * Upstream's NewContainerManager for the CPU manager: reservedSystemCPUs applied to the
 * configuration (it becomes systemReserved cpu, so allocatable and the reserved cgroups count
 * it), then the manager built; options upstream accepts that this kubelet does not apply are
 * named in a warning. Throws ResourceManagerError, which stops the start.
 */
export function cpuManagerForConfig(
  config: KubeletConfiguration,
  rootDir: string,
  logger: KubeletLogger,
): { config: KubeletConfiguration; cpuManager: CpuManager } {
  let topology: CpuTopology | undefined;
  const machine = () => {
    topology ??= discoverCpuTopology();
    return topology;
  };
  const applied = withReservedSystemCpus(config, machine);
  const cpuManager = cpuManagerFromConfig(applied, rootDir, topology, logger);
  for (const option of cpuManager.ignoredOptions)
    logger.warn(
      { field: 'cpuManagerPolicyOptions', option },
      `KubeletConfiguration field cpuManagerPolicyOptions option ${option} is not supported by this kubelet and has no effect`,
    );
  return { config: applied, cpuManager };
}

/**
 * The CPU and memory managers started over the built kubelet (upstream's container manager
 * Start); stale CPU assignments wait until the pod sources are ready (markSourcesReady).
 */
export function startCpuAndMemoryManagers(
  cpuManager: CpuManager,
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
  logger.info({ policy: 'None' }, 'Starting memorymanager');
  startResourceManagers(cpuManager, kubelet, runtime, {
    rootDir,
    onReconcileError: (error, containerId) =>
      logger.error({ err: String(error), containerId }, 'ReconcileState: failed to update container'),
    waitForSources: true,
  });
  return () => cpuManager.stop();
}
