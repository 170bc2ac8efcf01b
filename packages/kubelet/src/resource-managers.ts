import { parseDuration } from '@nodeagent/primitives';
import type { Pod, PodStatus } from './api/pod-types';
import { featureGateEnabled } from './config/feature-gate-rules';
import type { KubeletConfiguration } from './config/kubelet-configuration';
import { CpuManager, reservedCpuMilli } from './cpumanager/cpu-manager';
import type { CpuManagerMetrics } from './cpumanager/cpu-manager-metrics';
import { CpuSet } from './cpumanager/cpu-set';
import type { CpuTopology } from './cpumanager/cpu-topology';
import { ResourceManagerError } from './cpumanager/resource-manager-error';
import type { PodRuntime } from './cri/pod-runtime';
import { findContainer, type PodRuntimeStatus } from './cri/runtime-state';
import type { KubeletLogger } from './kubelet-logger';
import { MemoryManager } from './memorymanager/memory-manager';
import { type NumaNode, readNumaNodes } from './topologymanager/numa-info';
import { TopologyManager } from './topologymanager/topology-manager';
import type { TopologyManagerMetrics } from './topologymanager/topology-manager-metrics';

/**
 * Upstream's server.go for reservedSystemCPUs (--reserved-cpus): the list must lie within the
 * online CPUs, and then it overrides the cpu of kubeReserved and systemReserved (systemReserved
 * cpu becomes its size), so Node allocatable and the reserved cgroups count it.
 */
export function withReservedSystemCpus(
  config: KubeletConfiguration,
  topology: () => CpuTopology,
): KubeletConfiguration {
  if (config.reservedSystemCPUs === '') return config;
  const online = topology().cpus();
  const reserved = CpuSet.parse(config.reservedSystemCPUs);
  if (!reserved.isSubsetOf(online))
    throw new ResourceManagerError(
      'reservedSystemCPUs',
      config.reservedSystemCPUs,
      `reserved-cpus: ${config.reservedSystemCPUs} is not a subset of online-cpus: ${online}`,
    );
  if (reserved.isEmpty()) return config;
  const { cpu: _dropped, ...kubeReserved } = config.kubeReserved;
  return {
    ...config,
    kubeReserved,
    systemReserved: { ...config.systemReserved, cpu: String(reserved.size) },
  };
}

/**
 * Upstream NewManager from the KubeletConfiguration (reservedSystemCPUs already applied); the
 * topology is read from /sys only when the static policy needs it, unless given.
 */
export function cpuManagerFromConfig(
  config: KubeletConfiguration,
  rootDir: string,
  topology?: CpuTopology,
  logger?: Pick<KubeletLogger, 'info'>,
  metrics?: CpuManagerMetrics,
): CpuManager {
  return new CpuManager({
    policyName: config.cpuManagerPolicy,
    policyOptions: config.cpuManagerPolicyOptions,
    reconcilePeriodMs: parseDuration(config.cpuManagerReconcilePeriod),
    reservedSystemCpus: CpuSet.parse(config.reservedSystemCPUs),
    reservedCpuMilli: reservedCpuMilli(config.kubeReserved, config.systemReserved),
    optionGates: {
      alpha: featureGateEnabled(config.featureGates, 'CPUManagerPolicyAlphaOptions'),
      beta: featureGateEnabled(config.featureGates, 'CPUManagerPolicyBetaOptions'),
    },
    disableQuotaWithExclusiveCpus: featureGateEnabled(
      config.featureGates,
      'DisableCPUQuotaWithExclusiveCPUs',
    ),
    rootDir,
    topology,
    logger,
    metrics,
  });
}

/**
 * Upstream NewManager for the topology manager from the KubeletConfiguration; as upstream's
 * NewContainerManager it is built before the device, CPU and memory managers, its hint
 * providers. The NUMA nodes are
 * read from /sys only for a policy other than none, unless given. Throws ResourceManagerError
 * with upstream's text, which stops the start.
 */
export function topologyManagerFromConfig(
  config: KubeletConfiguration,
  numaNodes: () => readonly NumaNode[] = () => readNumaNodes(),
  logger?: Pick<KubeletLogger, 'info'>,
  metrics?: TopologyManagerMetrics,
): TopologyManager {
  try {
    return new TopologyManager({
      policyName: config.topologyManagerPolicy,
      scopeName: config.topologyManagerScope,
      policyOptions: config.topologyManagerPolicyOptions,
      numaNodes,
      metrics,
      onMaxAboveDefault: (value) =>
        logger?.info(
          { 'max-allowable-numa-nodes': value, defaultMaxAllowableNUMANodes: 8 },
          'WARNING: the value of max-allowable-numa-nodes is more than the default recommended value',
        ),
    });
  } catch (error) {
    throw new ResourceManagerError(
      'topologyManagerPolicy',
      config.topologyManagerPolicy,
      (error as Error).message,
    );
  }
}

/** What the resource managers read of the running kubelet. */
export interface ResourceManagerKubelet {
  /** Every pod the kubelet knows. */
  getPods(): Pod[];
  /** The pod's status as the kubelet last computed it. */
  getPodStatus(uid: string): PodStatus | undefined;
  /** The pod's sandboxes and containers as the runtime last reported them. */
  runtimeStatus(uid: string): PodRuntimeStatus | undefined;
}

/**
 * Upstream's container manager start for the CPU and memory managers: the CPU manager restores
 * `cpu_manager_state` and (static) starts its reconcile loop; the memory manager restores
 * `memory_manager_state` (a None manager when none is given) and checks it against the machine.
 * Throws ResourceManagerError with upstream's "start … manager error" text. Active pods are the
 * kubelet's pods not in a terminal phase (upstream filterOutInactivePods).
 */
export function startResourceManagers(
  cpuManager: CpuManager,
  kubelet: ResourceManagerKubelet,
  runtime: Pick<PodRuntime, 'updateContainerResources'>,
  options: {
    rootDir: string;
    onReconcileError?: (error: unknown, containerId: string) => void;
    /** Stale assignments wait for cpuManager.markSourcesReady() (see CpuManagerRuntime). */
    waitForSources?: boolean;
    /** The memory manager (default: one with the None policy). */
    memoryManager?: MemoryManager;
    /** Hears a memory manager checkpoint write that failed after the start. */
    onMemoryStoreError?: (error: unknown) => void;
  },
): void {
  const activePods = () =>
    kubelet.getPods().filter((pod) => {
      const phase = kubelet.getPodStatus(pod.metadata.uid ?? '')?.phase;
      return phase !== 'Succeeded' && phase !== 'Failed';
    });
  cpuManager.start({
    activePods,
    containers: (uid) => {
      const status = kubelet.runtimeStatus(uid);
      if (!status) return [];
      const names = new Set(status.containers.map((c) => c.name));
      return [...names].flatMap((name) => {
        const newest = findContainer(status, name);
        return newest ? [{ name, id: newest.id, state: newest.state }] : [];
      });
    },
    updateCpuset: async (id, cpus) => {
      await runtime.updateContainerResources?.(id, { cpusetCpus: cpus });
    },
    onError: options.onReconcileError,
    waitForSources: options.waitForSources,
  });
  const memoryManager = options.memoryManager ?? new MemoryManager({ name: 'None' }, options.rootDir);
  memoryManager.start({ activePods, onStoreError: options.onMemoryStoreError });
}
