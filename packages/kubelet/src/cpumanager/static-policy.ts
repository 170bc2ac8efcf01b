import { milliValue } from '@nodeagent/primitives';
import { hasPodLevelResources } from '../api/pod-level-resources';
import type { Container, Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';
import type { NumaMask } from '../topologymanager/numa-mask';
import type { ResourceHints } from '../topologymanager/topology-hint';
import { CpuAllocationError } from './allocation-error';
import type { CpuManagerMetrics } from './cpu-manager-metrics';
import type { CpuManagerState } from './cpu-manager-state';
import { CpuSet } from './cpu-set';
import type { CpuTopology } from './cpu-topology';
import { cpusOnNumaNodes, generateCpuTopologyHints } from './cpu-topology-hints';
import type { StaticPolicyOptions } from './policy-options';
import { takeByTopology } from './take-by-topology';

/**
 * Upstream's static policy: a Guaranteed pod's container with a whole-number CPU request gets
 * that many CPUs to itself, taken from the shared pool (the state's default set) minus the
 * reserved CPUs; every other container runs on the shared pool, reserved CPUs included.
 */
export class StaticPolicy {
  readonly name = 'static';
  /** CPUs never given exclusively (reservedSystemCPUs, or ceil(kube+system reserved) by topology). */
  readonly reserved: CpuSet;
  /** The reserved CPUs with their hyper-thread siblings (full-pcpus-only counts cores without them). */
  private readonly reservedPhysical: CpuSet;
  /** Options upstream accepts and sets that this policy does not apply (named in a warning). */
  readonly ignoredOptions: readonly string[];
  /** Per pod: CPUs its init containers held, which its later containers may take again. */
  private readonly cpusToReuse = new Map<string, CpuSet>();

  constructor(
    private readonly topology: CpuTopology,
    numReserved: number,
    reservedCpus: CpuSet,
    private readonly options: StaticPolicyOptions,
    private readonly metrics?: CpuManagerMetrics,
  ) {
    let reserved = reservedCpus;
    if (reserved.size === 0) {
      try {
        reserved = takeByTopology(topology, topology.cpus(), numReserved);
      } catch {
        reserved = new CpuSet();
      }
    }
    if (reserved.size !== numReserved)
      throw new Error(
        `[cpumanager] unable to reserve the required amount of CPUs (size of ${reserved} did not equal ${numReserved})`,
      );
    this.reserved = reserved;
    this.ignoredOptions = options.ignored;
    this.reservedPhysical = topology.coreSiblings(reserved);
  }

  /** Upstream GetAllocatableCPUs: every CPU but the reserved ones (the pod-resources API's answer). */
  allocatableCpus(): CpuSet {
    return this.topology.cpus().difference(this.reserved);
  }

  /** Upstream validateState: a fresh state gets every CPU as its shared pool; a restored one must fit the machine. */
  start(state: CpuManagerState): void {
    const all = this.topology.cpus();
    if (state.defaultCpuSet.isEmpty()) {
      if (state.assignments.size > 0) throw new Error('default cpuset cannot be empty');
      state.defaultCpuSet = all;
      this.initializeMetrics(state);
      return;
    }
    const shared = state.defaultCpuSet;
    if (!this.reserved.intersection(shared).equals(this.reserved))
      throw new Error(
        `not all reserved cpus: ${JSON.stringify(this.reserved.toString())} are present in defaultCpuSet: ${JSON.stringify(shared.toString())}`,
      );
    let known = shared;
    for (const [pod, containers] of state.assignments)
      for (const [container, cpus] of containers) {
        if (!shared.intersection(cpus).isEmpty())
          throw new Error(
            `pod: ${pod}, container: ${container} cpuset: ${JSON.stringify(cpus.toString())} overlaps with default cpuset ${JSON.stringify(shared.toString())}`,
          );
        known = known.union(cpus);
      }
    if (!known.equals(all))
      throw new Error(
        `current set of available CPUs ${JSON.stringify(all.toString())} doesn't match with CPUs in state ${JSON.stringify(known.toString())}`,
      );
    this.initializeMetrics(state);
  }

  /**
   * Upstream initializeMetrics, once the state is valid: the physical_cpu series exist from the
   * start, at 0, and the gauges read the state.
   */
  private initializeMetrics(state: CpuManagerState): void {
    const metrics = this.metrics;
    if (!metrics) return;
    metrics.aligned.failures.inc({ boundary: 'physical_cpu', scope: 'container' }, 0);
    metrics.aligned.aligned.inc({ boundary: 'physical_cpu', scope: 'container' }, 0);
    this.updateGauges(state);
  }

  /**
   * The shared pool, exclusive CPU and per-NUMA gauges as the state has them. Upstream v1.36 moves
   * the first two by each allocation's and release's size and sets only the NUMA nodes still
   * holding CPUs; read from the state, the values agree with those and cannot drift (an app
   * container reusing its init container's CPUs is not counted twice, a node left without
   * exclusive CPUs has no series rather than its last count).
   */
  private updateGauges(state: CpuManagerState): void {
    const metrics = this.metrics;
    if (!metrics) return;
    metrics.sharedPoolSizeMillicores.set(this.availableCpus(state).size * 1000);
    let exclusive = new CpuSet();
    for (const containers of state.assignments.values()) exclusive = exclusive.union(...containers.values());
    metrics.exclusiveCpuAllocationCount.set(exclusive.size);
    const perNode = new Map<number, number>();
    for (const cpu of exclusive.list()) {
      const node = this.topology.details.get(cpu)?.numaNodeId ?? 0;
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
    metrics.allocationPerNuma.reset();
    for (const [node, count] of perNode) metrics.allocationPerNuma.set({ numa_node: String(node) }, count);
  }

  /** Upstream guaranteedCPUs: the whole CPUs a Guaranteed pod's container requests, else 0. */
  guaranteedCpus(pod: Pod, container: Container): number {
    if (podQOSClass(pod) !== 'Guaranteed') return 0;
    const request = container.resources?.requests?.cpu;
    if (request === undefined) return 0;
    const milli = milliValue(request, 'resources.requests.cpu');
    return milli % 1000 === 0 ? milli / 1000 : 0;
  }

  /**
   * Upstream podGuaranteedCPUs: what the pod needs at its peak, the larger of its app and
   * sidecar containers together and its biggest init container (after the sidecars started before it).
   */
  podGuaranteedCpus(pod: Pod): number {
    let byInit = 0;
    let bySidecars = 0;
    for (const container of pod.spec.initContainers ?? []) {
      if (container.resources?.requests?.cpu === undefined) continue;
      const cpus = this.guaranteedCpus(pod, container);
      if (container.restartPolicy === 'Always') bySidecars += cpus;
      else if (bySidecars + cpus > byInit) byInit = bySidecars + cpus;
    }
    let byApps = 0;
    for (const container of pod.spec.containers)
      if (container.resources?.requests?.cpu !== undefined) byApps += this.guaranteedCpus(pod, container);
    return Math.max(byInit, byApps + bySidecars);
  }

  /**
   * Upstream GetTopologyHints: none (no preference) for a container without exclusive CPUs;
   * for one that has them already (a restart) the hints of those CPUs, or none satisfiable if
   * their count differs from the request; else the hints of the free and reusable CPUs.
   */
  getTopologyHints(state: CpuManagerState, pod: Pod, container: Container): ResourceHints {
    const requested = this.guaranteedCpus(pod, container);
    if (requested === 0 || hasPodLevelResources(pod)) return undefined;
    const allocated = state.assignments.get(pod.metadata.uid ?? '')?.get(container.name);
    if (allocated) {
      if (allocated.size !== requested) return { cpu: [] };
      return { cpu: generateCpuTopologyHints(this.topology, allocated, new CpuSet(), requested) };
    }
    const reusable = this.cpusToReuse.get(pod.metadata.uid ?? '') ?? new CpuSet();
    return { cpu: generateCpuTopologyHints(this.topology, this.availableCpus(state), reusable, requested) };
  }

  /**
   * Upstream GetPodTopologyHints: the same for the pod's peak need, counting CPUs its
   * containers hold already as reusable.
   */
  getPodTopologyHints(state: CpuManagerState, pod: Pod): ResourceHints {
    const requested = this.podGuaranteedCpus(pod);
    if (requested === 0 || hasPodLevelResources(pod)) return undefined;
    const uid = pod.metadata.uid ?? '';
    let assigned = new CpuSet();
    for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      const allocated = state.assignments.get(uid)?.get(container.name);
      if (!allocated) continue;
      if (allocated.size !== this.guaranteedCpus(pod, container)) return { cpu: [] };
      assigned = assigned.union(allocated);
    }
    if (assigned.size === requested)
      return { cpu: generateCpuTopologyHints(this.topology, assigned, new CpuSet(), requested) };
    const reusable = (this.cpusToReuse.get(uid) ?? new CpuSet()).union(assigned);
    return { cpu: generateCpuTopologyHints(this.topology, this.availableCpus(state), reusable, requested) };
  }

  /** Upstream GetAvailableCPUs: the shared pool without the reserved CPUs. */
  private availableCpus(state: CpuManagerState): CpuSet {
    return state.defaultCpuSet.difference(this.reserved);
  }

  /**
   * Upstream Allocate: exclusive CPUs for a container that qualifies (kept when the state has
   * them already), nothing for a shared-pool one; with a NUMA affinity from the topology
   * manager, the CPUs on its nodes are taken first. Whether the state changed; throws
   * CpuAllocationError. Counted as upstream's: a pinning request for each container past the
   * shared-pool check, an error for each that throws, and with full-pcpus-only an aligned
   * physical_cpu allocation or failure.
   */
  allocate(
    state: CpuManagerState,
    pod: Pod,
    container: Container,
    numaAffinity: NumaMask | null = null,
  ): boolean {
    const count = this.guaranteedCpus(pod, container);
    // Upstream skips pods sized by spec.resources: the static policy does not pin them.
    if (count === 0 || hasPodLevelResources(pod)) return false;
    // Upstream counts from here on: a container already holding its CPUs is a request too.
    const metrics = this.metrics;
    metrics?.pinningRequests.inc();
    const physical = { boundary: 'physical_cpu', scope: 'container' } as const;
    let changed: boolean;
    try {
      changed = this.allocateExclusive(state, pod, container, count, numaAffinity);
    } catch (error) {
      metrics?.pinningErrors.inc();
      if (this.options.fullPhysicalCpusOnly) metrics?.aligned.failures.inc(physical);
      throw error;
    }
    if (this.options.fullPhysicalCpusOnly) metrics?.aligned.aligned.inc(physical);
    if (changed) this.updateGauges(state);
    return changed;
  }

  /** Allocate past the shared-pool check: `count` exclusive CPUs, or the ones the state holds. */
  private allocateExclusive(
    state: CpuManagerState,
    pod: Pod,
    container: Container,
    count: number,
    numaAffinity: NumaMask | null,
  ): boolean {
    const uid = pod.metadata.uid ?? '';
    if (this.options.fullPhysicalCpusOnly) {
      const perCore = this.topology.cpusPerCore();
      if (count % perCore !== 0) throw CpuAllocationError.smtAlignment(count, perCore);
      const availablePhysical = state.defaultCpuSet.difference(this.reservedPhysical).size;
      if (count > availablePhysical) throw CpuAllocationError.smtAlignment(count, perCore, availablePhysical);
    }
    const existing = state.assignments.get(uid)?.get(container.name);
    if (existing) {
      this.updateCpusToReuse(pod, container, existing);
      return false;
    }
    const available = state.defaultCpuSet
      .difference(this.reserved)
      .union(this.cpusToReuse.get(uid) ?? new CpuSet());
    let cpus: CpuSet;
    try {
      cpus = this.allocateCpus(available, count, numaAffinity);
    } catch (error) {
      throw CpuAllocationError.unexpected((error as Error).message);
    }
    state.defaultCpuSet = state.defaultCpuSet.difference(cpus);
    const containers = state.assignments.get(uid) ?? new Map<string, CpuSet>();
    containers.set(container.name, cpus);
    state.assignments.set(uid, containers);
    this.updateCpusToReuse(pod, container, cpus);
    return true;
  }

  /**
   * Upstream allocateCPUs: as many CPUs as the affinity's nodes can give, taken by topology among
   * them, then the rest by topology from everything else available.
   */
  private allocateCpus(available: CpuSet, count: number, numaAffinity: NumaMask | null): CpuSet {
    let taken = new CpuSet();
    if (numaAffinity) {
      const aligned = cpusOnNumaNodes(this.topology, available, numaAffinity);
      taken = takeByTopology(this.topology, aligned, Math.min(count, aligned.size));
    }
    return taken.union(takeByTopology(this.topology, available.difference(taken), count - taken.size));
  }

  /** Upstream RemoveContainer: the container's CPUs go back to the shared pool, unless a sibling still holds them. */
  removeContainer(state: CpuManagerState, podUid: string, containerName: string): void {
    const containers = state.assignments.get(podUid);
    const released = containers?.get(containerName);
    if (!containers || !released) return;
    containers.delete(containerName);
    if (containers.size === 0) state.assignments.delete(podUid);
    const inUse = new CpuSet().union(...(containers.values() ?? []));
    state.defaultCpuSet = state.defaultCpuSet.union(released.difference(inUse));
    this.updateGauges(state);
  }

  /**
   * Upstream updateCPUsToReuse: a (non-sidecar) init container's CPUs may be taken again by the
   * pod's next containers, which run after it; an app container's are no longer free to reuse.
   */
  private updateCpusToReuse(pod: Pod, container: Container, cpus: CpuSet): void {
    const uid = pod.metadata.uid ?? '';
    for (const other of [...this.cpusToReuse.keys()]) if (other !== uid) this.cpusToReuse.delete(other);
    const reuse = this.cpusToReuse.get(uid) ?? new CpuSet();
    const init = (pod.spec.initContainers ?? []).find((c) => c.name === container.name);
    this.cpusToReuse.set(
      uid,
      init && init.restartPolicy !== 'Always' ? reuse.union(cpus) : reuse.difference(cpus),
    );
  }
}
