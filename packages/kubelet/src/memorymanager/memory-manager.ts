import { containerNamesByPod } from '../api/containers-by-pod';
import { type Container, isSidecar, type Pod } from '../api/pod-types';
import type { ResourceHints, TopologyHint } from '../topologymanager/topology-hint';
import type { HintProvider } from '../topologymanager/topology-manager';
import {
  type MemoryCheckpointContent,
  restoreMemoryManagerCheckpoint,
  writeMemoryManagerCheckpoint,
} from './memory-manager-checkpoint';
import type { MemoryBlock } from './memory-state';
import type { StaticMemoryPolicy } from './static-memory-policy';

/** What the memory manager reads of the running kubelet once started. */
export interface MemoryManagerRuntime {
  /** The pods not in a terminal phase (upstream ActivePodsFunc). */
  activePods(): Pod[];
  /** Hears a checkpoint write that failed after the start (upstream logs it and goes on). */
  onStoreError?: (error: unknown) => void;
}

/** The None policy: no state but the checkpoint, no hints, nothing pinned. */
export interface NoneMemoryPolicy {
  readonly name: 'None';
}

/**
 * Upstream's memory manager (pkg/kubelet/cm/memorymanager): with the Static policy a hint
 * provider of the topology manager that gives Guaranteed pods' containers memory and huge pages
 * from chosen NUMA nodes, kept in `<root-dir>/memory_manager_state`; the nodes reach the
 * container as CreateContainer's cpuset_mems. Under None it only keeps the checkpoint.
 */
export class MemoryManager implements HintProvider {
  private state: MemoryCheckpointContent | undefined;
  private runtime: MemoryManagerRuntime | undefined;
  private sourcesReady = false;
  private allocatable: MemoryBlock[] = [];

  constructor(
    readonly policy: StaticMemoryPolicy | NoneMemoryPolicy,
    private readonly rootDir: string,
  ) {}

  /**
   * Upstream Start: the checkpoint restored (written fresh when missing; one of another policy
   * or corrupted throws ResourceManagerError), the policy's state checked against the machine.
   * Stale assignments are released only after markSourcesReady.
   */
  start(runtime: MemoryManagerRuntime): void {
    this.runtime = runtime;
    const state = restoreMemoryManagerCheckpoint(this.rootDir, this.policy.name);
    this.state = state;
    if (this.policy.name === 'None') return;
    const wasEmpty = Object.keys(state.machineState).length === 0;
    this.policy.start(state);
    if (wasEmpty) this.store();
    this.allocatable = this.policy.allocatableMemory(state);
  }

  /** Every pod source has listed: from now on assignments of pods that are gone are released. */
  markSourcesReady(): void {
    this.sourcesReady = true;
  }

  /** Upstream GetTopologyHints (container scope), after releasing stale assignments. */
  getTopologyHints(pod: Pod, container: Container): ResourceHints {
    if (this.policy.name === 'None' || !this.state) return undefined;
    this.removeStaleState();
    return this.policy.getTopologyHints(this.state, pod, container);
  }

  /** Upstream GetPodTopologyHints (pod scope), after releasing stale assignments. */
  getPodTopologyHints(pod: Pod): ResourceHints {
    if (this.policy.name === 'None' || !this.state) return undefined;
    this.removeStaleState();
    return this.policy.getPodTopologyHints(this.state, pod);
  }

  /** Upstream Allocate with the topology manager's chosen affinity; throws the policy's error. */
  allocate(pod: Pod, container: Container, affinity: TopologyHint): void {
    if (this.policy.name === 'None' || !this.state) return;
    this.removeStaleState();
    if (this.policy.allocate(this.state, pod, container, affinity)) this.store();
  }

  /**
   * Upstream AddContainer, once the container is created: the regular init containers before it
   * have finished, so their memory is released. (Upstream also maps the container's id to it, for
   * a removal by id this kubelet does not make: stale blocks go by pod and name.)
   */
  addContainer(podUid: string, containerName: string): void {
    if (this.policy.name === 'None' || !this.state) return;
    const pod = this.runtime?.activePods().find((p) => p.metadata.uid === podUid);
    let changed = false;
    for (const init of pod?.spec.initContainers ?? []) {
      if (init.name === containerName) break;
      if (isSidecar(init)) continue;
      changed = this.removeByRef(podUid, init.name) || changed;
    }
    if (changed) this.store();
  }

  /** Upstream GetMemoryNUMANodes: the nodes of the container's blocks, ascending; empty when none. */
  numaNodes(podUid: string, containerName: string): number[] {
    const nodes = new Set(
      (this.state?.entries[podUid]?.[containerName] ?? []).flatMap((b) => b.numaAffinity),
    );
    return [...nodes].sort((a, b) => a - b);
  }

  /** Upstream GetMemory: the container's blocks (the pod-resources API lists them). */
  memory(podUid: string, containerName: string): readonly MemoryBlock[] {
    return this.state?.entries[podUid]?.[containerName] ?? [];
  }

  /** Upstream GetAllocatableMemory: each node's allocatable memory of each type, as at the start. */
  allocatableMemory(): readonly MemoryBlock[] {
    return this.allocatable;
  }

  /** Upstream removeStaleState: blocks of containers no active pod has any more are released. */
  removeStaleState(): void {
    if (!this.sourcesReady || !this.runtime || !this.state || this.policy.name === 'None') return;
    const active = containerNamesByPod(this.runtime.activePods());
    let changed = false;
    for (const [podUid, containers] of Object.entries(this.state.entries))
      for (const name of Object.keys(containers))
        if (!active.get(podUid)?.has(name)) changed = this.removeByRef(podUid, name) || changed;
    if (changed) this.store();
  }

  /** Upstream policyRemoveContainerByRef: the blocks released. */
  private removeByRef(podUid: string, name: string): boolean {
    if (this.policy.name === 'None' || !this.state) return false;
    return this.policy.removeContainer(this.state, podUid, name);
  }

  /** Upstream's state setters: the checkpoint is written on every change, a failure logged. */
  private store(): void {
    if (!this.state) return;
    try {
      writeMemoryManagerCheckpoint(this.rootDir, this.policy.name, this.state);
    } catch (error) {
      this.runtime?.onStoreError?.(error);
    }
  }
}
