import { type Clock, milliValue, systemClock } from '@nodeagent/primitives';
import { containerNamesByPod } from '../api/containers-by-pod';
import type { Container, Pod } from '../api/pod-types';
import { everyOn } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';
import type { ResourceHints, TopologyHint } from '../topologymanager/topology-hint';
import type { HintProvider } from '../topologymanager/topology-manager';
import type { CpuManagerMetrics } from './cpu-manager-metrics';
import { CpuManagerCheckpoint, type CpuManagerState } from './cpu-manager-state';
import { CpuSet } from './cpu-set';
import { type CpuTopology, discoverCpuTopology } from './cpu-topology';
import { parseStaticPolicyOptions } from './policy-options';
import { ResourceManagerError } from './resource-manager-error';
import { StaticPolicy } from './static-policy';

/** The KubeletConfiguration fields and node facts the CPU manager is built from. */
export interface CpuManagerConfig {
  /** cpuManagerPolicy: "none" (default) or "static". */
  policyName: string;
  /** cpuManagerPolicyOptions. */
  policyOptions: Readonly<Record<string, string>>;
  /** cpuManagerReconcilePeriod in milliseconds. */
  reconcilePeriodMs: number;
  /** reservedSystemCPUs, already checked to lie within the online CPUs. */
  reservedSystemCpus: CpuSet;
  /** kubeReserved.cpu + systemReserved.cpu in millicores (upstream's node allocatable reservation). */
  reservedCpuMilli: number;
  /** The effective feature gates CPUManagerPolicyAlphaOptions and CPUManagerPolicyBetaOptions. */
  optionGates: { alpha: boolean; beta: boolean };
  /**
   * The DisableCPUQuotaWithExclusiveCPUs gate (on by default in v1.36): a container with
   * exclusive CPUs runs without a CFS quota.
   */
  disableQuotaWithExclusiveCpus?: boolean;
  /** --root-dir, where cpu_manager_state lives. */
  rootDir: string;
  /** The machine's CPUs (default: read from /sys). */
  topology?: CpuTopology;
  clock?: Clock;
  /** Where a checkpoint write that fails after the start is reported (upstream logs it and goes on). */
  logger?: Pick<KubeletLogger, 'info'>;
  /** Where the static policy counts its pinning and sets its gauges (upstream's kubelet_cpu_manager_*). */
  metrics?: CpuManagerMetrics;
}

/** One container of an active pod as the runtime last reported it, for the reconcile loop. */
export interface ReconciledContainer {
  name: string;
  id: string;
  state: 'created' | 'running' | 'exited' | 'unknown';
}

/** What the CPU manager reads from the kubelet and asks of the runtime once started. */
export interface CpuManagerRuntime {
  /** Pods admitted and not yet terminated (upstream activePods). */
  activePods(): Pod[];
  /** The newest instance of each of the pod's containers. */
  containers(podUid: string): ReconciledContainer[];
  /** CRI UpdateContainerResources with only cpuset_cpus set. */
  updateCpuset(containerId: string, cpus: string): Promise<void>;
  /** Hears a reconcile failure for one container (upstream logs it). */
  onError?(error: unknown, containerId: string): void;
  /**
   * Whether stale assignments wait for {@link CpuManager.markSourcesReady} (upstream's
   * sourcesReady.AllReady: every pod source has delivered its pods). Default: they are removed
   * from the first reconcile on.
   */
  waitForSources?: boolean;
}

/** Upstream's two policies as far as the manager needs them (the none policy pins nothing). */
export type CpuManagerPolicy = StaticPolicy | { name: 'none' };

/** Go's %v of a map[string]string: `map[a:1 b:2]`, keys sorted. */
function goMap(record: Readonly<Record<string, string>>): string {
  const keys = Object.keys(record).sort();
  return `map[${keys.map((key) => `${key}:${record[key]}`).join(' ')}]`;
}

/** Upstream NewManager's policy choice and its refusals, in its words. */
function newPolicy(config: CpuManagerConfig, topology: () => CpuTopology): CpuManagerPolicy {
  const refuse = (message: string) =>
    new ResourceManagerError('cpuManagerPolicy', config.policyName, message);
  if (config.policyName === 'none') {
    if (Object.keys(config.policyOptions).length > 0)
      throw refuse(
        `new none policy error: None policy: received unsupported options=${goMap(config.policyOptions)}`,
      );
    return { name: 'none' };
  }
  if (config.policyName !== 'static') throw refuse(`unknown policy: "${config.policyName}"`);
  // Upstream reads the reservation from the node allocatable reservation, which leaves a zero
  // entry out: no CPU reserved reads as none at all.
  if (config.reservedCpuMilli <= 0)
    throw refuse('[cpumanager] unable to determine reserved CPU resources for static policy');
  try {
    const options = parseStaticPolicyOptions(config.policyOptions, config.optionGates);
    // Fractional CPUs cannot be given exclusively: the reservation is rounded up.
    const numReserved = Math.ceil(config.reservedCpuMilli / 1000);
    return new StaticPolicy(topology(), numReserved, config.reservedSystemCpus, options, config.metrics);
  } catch (error) {
    throw refuse(`new static policy error: ${(error as Error).message}`);
  }
}

/**
 * Upstream's CPU manager (pkg/kubelet/cm/cpumanager): the policy chosen by cpuManagerPolicy, its
 * state checkpointed in `<root-dir>/cpu_manager_state`, CPUs given to containers at admission
 * (allocate), their cpuset handed to CreateContainer (cpuset), and under the static policy a
 * reconcile loop that keeps every running container's cpuset current.
 */
export class CpuManager implements HintProvider {
  readonly policy: CpuManagerPolicy;
  private readonly checkpoint: CpuManagerCheckpoint;
  private state: CpuManagerState | undefined;
  /** The cpuset each container was last given, so the loop updates only what changed. */
  private readonly lastUpdate = new Map<string, string>();
  private runtime: CpuManagerRuntime | undefined;
  private stopLoop: (() => void) | undefined;
  private reconciling: Promise<void> | undefined;
  /**
   * Upstream removes stale assignments only once every pod source has delivered its pods: until
   * then a restored assignment of a pod not yet seen again must stay.
   */
  private sourcesReady = false;

  /** Upstream NewManager: throws ResourceManagerError for a policy or reservation it refuses. */
  constructor(private readonly config: CpuManagerConfig) {
    this.policy = newPolicy(config, () => config.topology ?? discoverCpuTopology());
    this.checkpoint = new CpuManagerCheckpoint(config.rootDir);
  }

  /** cpuManagerReconcilePeriod in milliseconds. */
  get reconcilePeriodMs(): number {
    return this.config.reconcilePeriodMs;
  }

  /** Options upstream accepts that this kubelet's static policy does not apply (for a warning). */
  get ignoredOptions(): readonly string[] {
    return this.policy instanceof StaticPolicy ? this.policy.ignoredOptions : [];
  }

  /**
   * Upstream Start: restores (or writes) the checkpoint, lets the policy check it against the
   * machine, then, except under the none policy, reconciles every cpuManagerReconcilePeriod.
   * Throws ResourceManagerError with upstream's "start cpu manager error: …" text.
   */
  start(runtime: CpuManagerRuntime): void {
    const state = this.checkpoint.restore(this.policy.name);
    if (this.policy instanceof StaticPolicy) {
      try {
        this.policy.start(state);
      } catch (error) {
        throw new ResourceManagerError(
          'cpuManagerPolicy',
          this.policy.name,
          `start cpu manager error: ${(error as Error).message}`,
        );
      }
      this.checkpoint.store(state);
    }
    this.state = state;
    this.runtime = runtime;
    if (this.policy.name === 'none') return;
    this.stopLoop = everyOn(this.config.clock ?? systemClock, this.config.reconcilePeriodMs, () => {
      if (!runtime.waitForSources) this.sourcesReady = true;
      void this.reconcile();
    });
  }

  /** Every pod source has delivered its pods (the API source listed): stale assignments may go. */
  markSourcesReady(): void {
    this.sourcesReady = true;
  }

  /** Ends the reconcile loop. */
  stop(): void {
    this.stopLoop?.();
    this.stopLoop = undefined;
  }

  /**
   * Upstream GetTopologyHints (container scope): stale assignments go first, then the policy's
   * hints; the none policy has no preference.
   */
  getTopologyHints(pod: Pod, container: Container): ResourceHints {
    if (!(this.policy instanceof StaticPolicy) || !this.state) return undefined;
    this.removeStaleState();
    return this.policy.getTopologyHints(this.state, pod, container);
  }

  /** Upstream GetPodTopologyHints (pod scope): as getTopologyHints, for the whole pod. */
  getPodTopologyHints(pod: Pod): ResourceHints {
    if (!(this.policy instanceof StaticPolicy) || !this.state) return undefined;
    this.removeStaleState();
    return this.policy.getPodTopologyHints(this.state, pod);
  }

  /**
   * Upstream Allocate for one container, called by the topology manager's admission with the
   * affinity it chose (null under its none policy): stale assignments go first. Throws
   * CpuAllocationError.
   */
  allocate(pod: Pod, container: Container, affinity: TopologyHint): void {
    if (!(this.policy instanceof StaticPolicy) || !this.state) return;
    this.removeStaleState();
    // Upstream writes the checkpoint on every change: an allocation made before a later
    // container's refusal stays until removeStaleState releases it.
    if (this.policy.allocate(this.state, pod, container, affinity.affinity)) this.storeState(this.state);
  }

  /**
   * Upstream's state setters after the start: a checkpoint that cannot be written is logged
   * ("Store state to checkpoint error") and the in-memory state kept; only the start's write is fatal.
   */
  private storeState(state: CpuManagerState): void {
    try {
      this.checkpoint.store(state);
    } catch (error) {
      this.config.logger?.info({ err: (error as Error).message }, 'Store state to checkpoint error');
    }
  }

  /** Upstream GetCPUAffinity: the container's exclusive CPUs, else the shared pool ("" under none). */
  cpuset(podUid: string, containerName: string): string {
    const state = this.state;
    if (!state) return '';
    return (state.assignments.get(podUid)?.get(containerName) ?? state.defaultCpuSet).toString();
  }

  /** Upstream GetAllocatableCPUs: the CPUs the static policy may give exclusively; none under none. */
  allocatableCpus(): CpuSet {
    return this.policy.name === 'static' ? this.policy.allocatableCpus() : new CpuSet();
  }

  /** The container's exclusive CPUs, empty when it runs on the shared pool. */
  exclusiveCpus(podUid: string, containerName: string): CpuSet {
    return this.state?.assignments.get(podUid)?.get(containerName) ?? new CpuSet();
  }

  /**
   * Upstream's disableCPUQuota for generateLinuxContainerResources: the gate is on and the
   * container has CPUs to itself, so a CFS quota could only throttle it on its own CPUs.
   */
  quotaDisabled(podUid: string, containerName: string): boolean {
    return (
      (this.config.disableQuotaWithExclusiveCpus ?? false) &&
      !this.exclusiveCpus(podUid, containerName).isEmpty()
    );
  }

  /**
   * Upstream AddContainer, once a container is created: an exclusive cpuset counts as given (a
   * shared-pool one is set again by the first reconcile, as upstream's).
   */
  addContainer(podUid: string, containerName: string): void {
    const exclusive = this.exclusiveCpus(podUid, containerName);
    if (!exclusive.isEmpty()) this.lastUpdate.set(`${podUid}/${containerName}`, exclusive.toString());
  }

  /** Upstream removeStaleState: assignments of containers no active pod has any more are released. */
  removeStaleState(): void {
    const state = this.state;
    if (!this.sourcesReady || !state || !this.runtime || !(this.policy instanceof StaticPolicy)) return;
    const active = containerNamesByPod(this.runtime.activePods());
    let changed = false;
    for (const [podUid, containers] of [...state.assignments])
      for (const name of [...containers.keys()]) {
        if (active.get(podUid)?.has(name)) continue;
        this.policy.removeContainer(state, podUid, name);
        this.lastUpdate.delete(`${podUid}/${name}`);
        changed = true;
      }
    if (changed) this.storeState(state);
  }

  /**
   * Upstream reconcileState: stale assignments released, then every running container of an
   * active pod whose cpuset differs from the one it was last given is updated through CRI.
   */
  reconcile(): Promise<void> {
    // One pass at a time: a period that ends while a pass still waits on the runtime joins it.
    this.reconciling ??= this.reconcilePass().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private async reconcilePass(): Promise<void> {
    const runtime = this.runtime;
    if (!runtime || !this.state) return;
    this.removeStaleState();
    for (const pod of runtime.activePods()) {
      const uid = pod.metadata.uid ?? '';
      for (const container of runtime.containers(uid)) {
        if (container.state !== 'running') continue;
        const cpus = this.cpuset(uid, container.name);
        const key = `${uid}/${container.name}`;
        if (cpus === '' || this.lastUpdate.get(key) === cpus) continue;
        try {
          await runtime.updateCpuset(container.id, cpus);
          this.lastUpdate.set(key, cpus);
        } catch (error) {
          runtime.onError?.(error, container.id);
        }
      }
    }
  }
}

/** kubeReserved.cpu + systemReserved.cpu in millicores, 0 when neither sets cpu. */
export function reservedCpuMilli(
  kubeReserved: Readonly<Record<string, string>>,
  systemReserved: Readonly<Record<string, string>>,
): number {
  const milli = (value: string | undefined) => (value === undefined ? 0 : milliValue(value, 'cpu'));
  return milli(kubeReserved.cpu) + milli(systemReserved.cpu);
}
