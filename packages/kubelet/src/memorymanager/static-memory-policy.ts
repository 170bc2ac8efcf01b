import { hasPodLevelResources } from '../api/pod-level-resources';
import { type Container, isSidecar, type Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';
import { everyNumaMask, NumaMask } from '../topologymanager/numa-mask';
import type { ResourceHints, TopologyHint } from '../topologymanager/topology-hint';
import type { MemoryCheckpointContent } from './memory-manager-checkpoint';
import type { MemoryManagerMetrics } from './memory-manager-metrics';
import { containerMemoryRequests, type MemoryRequests, podMemoryRequests } from './memory-requests';
import type { MemoryBlock, NumaNodeMap } from './memory-state';
import { hugePagesResourceName, type NumaMemory } from './numa-memory';
import type { SystemReservedMemory } from './reserved-memory';

/** A hint with its NUMA nodes set (the memory manager never makes one without). */
interface MaskHint {
  affinity: NumaMask;
  preferred: boolean;
}

/** Whether two node lists hold the same nodes (upstream areGroupsEqual). */
function sameGroup(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const ascending = (list: readonly number[]) => [...list].sort((x, y) => x - y);
  const sortedB = ascending(b);
  return ascending(a).every((id, i) => id === sortedB[i]);
}

/** Whether every node of `hint` is in `group` (upstream isHintInGroup). */
const isHintInGroup = (hint: NumaMask, group: NumaMask) => hint.bits.every((id) => group.has(id));

/** Upstream findBestHint: a preferred hint over one that is not, then the narrower. */
function findBestHint(hints: readonly MaskHint[]): MaskHint | undefined {
  let best: MaskHint | undefined;
  for (const hint of hints) {
    if (!best || (hint.preferred && !best.preferred)) best = hint;
    else if (hint.preferred === best.preferred && hint.affinity.isNarrowerThan(best.affinity)) best = hint;
  }
  return best;
}

/**
 * Upstream's Static memory manager policy (memorymanager/policy_static.go): a Guaranteed pod's
 * containers are given their memory and huge pages from a set of NUMA nodes, recorded per node
 * in the machine state. A node serves either single-node allocations or one group of nodes for
 * cross-NUMA allocations, never both. Memory of finished init containers is reused by the
 * containers after them. Errors carry upstream's `[memorymanager] …` texts, which admission turns
 * into UnexpectedAdmissionError.
 */
export class StaticMemoryPolicy {
  readonly name = 'Static';
  /** Pod UID → NUMA mask text → memory type → bytes its regular init containers left to reuse. */
  private reusable: Record<string, Record<string, Record<string, number>>> = {};

  /** Upstream NewPolicyStatic: some memory must be reserved for the system. */
  constructor(
    private readonly nodes: readonly NumaMemory[],
    private readonly systemReserved: SystemReservedMemory,
    private readonly metrics?: MemoryManagerMetrics,
  ) {
    const total = Object.values(systemReserved).reduce((sum, node) => sum + (node.memory ?? 0), 0);
    if (total <= 0) throw new Error('[memorymanager] you should specify the system reserved memory');
  }

  /** Upstream getDefaultMachineState: each node's huge pages, then memory less them and the reservation. */
  defaultMachineState(): NumaNodeMap {
    const state: NumaNodeMap = {};
    for (const node of this.nodes) {
      const memoryMap: NumaNodeMap[number]['memoryMap'] = {};
      let hugeBytes = 0;
      for (const { pageSizeBytes, count } of node.hugePages) {
        const type = hugePagesResourceName(pageSizeBytes);
        const total = pageSizeBytes * count;
        const allocatable = total - this.reservedOn(node.id, type);
        memoryMap[type] = {
          total,
          systemReserved: this.reservedOn(node.id, type),
          allocatable,
          reserved: 0,
          free: allocatable,
        };
        hugeBytes += total;
      }
      const systemReserved = this.reservedOn(node.id, 'memory');
      const allocatable = node.memoryBytes - systemReserved - hugeBytes;
      memoryMap.memory = {
        total: node.memoryBytes,
        systemReserved,
        allocatable,
        reserved: 0,
        free: allocatable,
      };
      state[node.id] = { numberOfAssignments: 0, memoryMap, cells: [node.id] };
    }
    return state;
  }

  private reservedOn(node: number, type: string): number {
    return this.systemReserved[node]?.[type] ?? 0;
  }

  /**
   * Upstream Start/validateState: an empty machine state becomes the default one; a restored one
   * must equal the default with the restored assignments replayed on it.
   */
  start(state: MemoryCheckpointContent): void {
    const assignments = Object.entries(state.entries);
    if (Object.keys(state.machineState).length === 0) {
      if (assignments.length > 0)
        throw new Error('[memorymanager] machine state can not be empty when it has memory assignments');
      state.machineState = this.defaultMachineState();
      return;
    }
    const expected = this.defaultMachineState();
    for (const [pod, containers] of assignments)
      for (const [name, blocks] of Object.entries(containers))
        for (const block of blocks) {
          for (const id of block.numaAffinity) {
            if (!expected[id])
              throw new Error(
                `[memorymanager] (pod: ${pod}, container: ${name}) the memory assignment uses the NUMA that does not exist`,
              );
            if (!expected[id].memoryMap[block.type])
              throw new Error(
                `[memorymanager] (pod: ${pod}, container: ${name}) the memory assignment uses memory resource that does not exist`,
              );
          }
          reserveOnNodes(expected, block.numaAffinity, block.type, block.size);
        }
    if (!machineStatesEqual(state.machineState, expected))
      throw new Error('[memorymanager] the expected machine state is different from the real one');
  }

  /** Upstream GetTopologyHints: none for a pod that is not Guaranteed; a restart's blocks; else calculated. */
  getTopologyHints(state: MemoryCheckpointContent, pod: Pod, container: Container): ResourceHints {
    if (podQOSClass(pod) !== 'Guaranteed' || hasPodLevelResources(pod)) return undefined;
    const requests = containerMemoryRequests(pod, container);
    const blocks = state.entries[pod.metadata.uid ?? '']?.[container.name];
    if (blocks) return regenerateHints(blocks, requests);
    return this.calculateHints(state.machineState, pod, requests);
  }

  /** Upstream GetPodTopologyHints: the pod's peak needs, or the first allocated container's blocks. */
  getPodTopologyHints(state: MemoryCheckpointContent, pod: Pod): ResourceHints {
    if (podQOSClass(pod) !== 'Guaranteed' || hasPodLevelResources(pod)) return undefined;
    const requests = podMemoryRequests(pod);
    for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      const blocks = state.entries[pod.metadata.uid ?? '']?.[container.name];
      if (blocks) return regenerateHints(blocks, requests);
    }
    return this.calculateHints(state.machineState, pod, requests);
  }

  /**
   * Upstream calculateHints: every combination of nodes whose allocatable memory of each asked
   * type covers the request and that respects the single/cross-NUMA rule and has the free
   * memory (plus the pod's reusable init memory); preferred are those of the fewest nodes that
   * could ever hold the request.
   */
  private calculateHints(
    machine: NumaNodeMap,
    pod: Pod,
    requests: MemoryRequests,
  ): Record<string, MaskHint[]> {
    const ids = Object.keys(machine)
      .map(Number)
      .sort((a, b) => a - b);
    const types = Object.keys(requests).sort();
    let minAffinitySize = ids.length;
    const masks: NumaMask[] = [];
    everyNumaMask(ids, (mask) => {
      const sum = (field: 'free' | 'allocatable', type: string) =>
        mask.bits.reduce((total, id) => total + (machine[id]!.memoryMap[type]?.[field] ?? 0), 0);
      if (types.some((type) => sum('allocatable', type) < requests[type]!)) return;
      if (mask.count < minAffinitySize) minAffinitySize = mask.count;
      const single = mask.count === 1;
      if (single && machine[mask.bits[0]!]!.cells.length > 1) return;
      for (const id of mask.bits) {
        const node = machine[id]!;
        if (single || node.numberOfAssignments === 0) continue;
        if (node.cells.length === 1 || !sameGroup(node.cells, mask.bits)) return;
      }
      if (types.some((type) => sum('free', type) + this.reusableMemory(pod, mask, type) < requests[type]!))
        return;
      masks.push(mask);
    });
    // No node set fits: upstream's map stays empty, which the topology manager reads as no
    // preference; the allocation then fails with the memory manager's own error.
    const hints: Record<string, MaskHint[]> = {};
    if (masks.length === 0) return hints;
    for (const type of types)
      hints[type] = masks.map((affinity) => ({ affinity, preferred: affinity.count === minAffinitySize }));
    return hints;
  }

  private reusableMemory(pod: Pod, mask: NumaMask, type: string): number {
    return this.reusable[pod.metadata.uid ?? '']?.[mask.toString()]?.[type] ?? 0;
  }

  /**
   * Upstream Allocate (idempotent): for a Guaranteed pod's container, the topology manager's
   * hint (or the best default one when it has no nodes), extended when it cannot hold the
   * request, checked against the single/cross-NUMA rule; then one block per memory type, taken
   * from the nodes' free memory less what the pod's init containers left to reuse. Returns
   * whether the state changed; throws upstream's error. Counted as upstream's: a pinning request
   * for each call past the QoS and pod-level checks, an error for each that throws.
   */
  allocate(state: MemoryCheckpointContent, pod: Pod, container: Container, hint: TopologyHint): boolean {
    if (podQOSClass(pod) !== 'Guaranteed' || hasPodLevelResources(pod)) return false;
    // Upstream counts from here on: a container already holding its blocks is a request too.
    this.metrics?.pinningRequests.inc();
    try {
      return this.allocateBlocks(state, pod, container, hint);
    } catch (error) {
      this.metrics?.pinningErrors.inc();
      throw error;
    }
  }

  /** Allocate past the QoS and pod-level checks: the blocks, or the ones the state holds. */
  private allocateBlocks(
    state: MemoryCheckpointContent,
    pod: Pod,
    container: Container,
    hint: TopologyHint,
  ): boolean {
    const uid = pod.metadata.uid ?? '';
    const existing = state.entries[uid]?.[container.name];
    if (existing) {
      this.updateReusableMemory(pod, container, existing);
      return false;
    }
    const requests = containerMemoryRequests(pod, container);
    const machine = state.machineState;
    let best: MaskHint;
    if (hint.affinity === null) {
      const fallback = findBestHint(this.calculateHints(machine, pod, requests).memory ?? []);
      if (!fallback)
        throw new Error(
          '[memorymanager] failed to get the default NUMA affinity, no NUMA nodes with enough memory is available',
        );
      if (!fallback.preferred && hint.preferred)
        throw new Error('[memorymanager] failed to find the default preferred hint');
      best = fallback;
    } else best = { affinity: hint.affinity, preferred: hint.preferred };
    if (!this.satisfies(machine, best.affinity, requests)) {
      const current = best.affinity;
      const candidates = (this.calculateHints(machine, pod, requests).memory ?? []).filter((candidate) =>
        isHintInGroup(current, candidate.affinity),
      );
      const extended = findBestHint(candidates);
      if (!extended)
        throw new Error('[memorymanager] failed to find NUMA nodes to extend the current topology hint');
      if (!extended.preferred && best.preferred)
        throw new Error('[memorymanager] failed to find the extended preferred hint');
      best = extended;
    }
    if (violatesNumaAllocations(machine, best.affinity))
      throw new Error('[memorymanager] preferred hint violates NUMA node allocation');
    const nodes = best.affinity.bits;
    const blocks: MemoryBlock[] = [];
    for (const type of Object.keys(requests).sort()) {
      const size = requests[type]!;
      blocks.push({ numaAffinity: [...nodes], type, size });
      const reusable = this.reusableMemory(pod, best.affinity, type);
      reserveOnNodes(machine, nodes, type, reusable >= size ? 0 : size - reusable);
    }
    this.updateReusableMemory(pod, container, blocks);
    state.entries[uid] ??= {};
    state.entries[uid][container.name] = blocks;
    this.updateInitContainersBlocks(state, pod, container, blocks);
    return true;
  }

  private satisfies(machine: NumaNodeMap, mask: NumaMask, requests: MemoryRequests): boolean {
    return Object.entries(requests).every(
      ([type, size]) =>
        mask.bits.reduce((sum, id) => sum + (machine[id]?.memoryMap[type]?.free ?? 0), 0) >= size,
    );
  }

  /**
   * Upstream updatePodReusableMemory: only the pod being admitted keeps reusable memory; a
   * regular init container's blocks become reusable (the largest per mask and type), an app
   * container's blocks use it up.
   */
  private updateReusableMemory(pod: Pod, container: Container, blocks: readonly MemoryBlock[]): void {
    const uid = pod.metadata.uid ?? '';
    for (const other of Object.keys(this.reusable)) if (other !== uid) delete this.reusable[other];
    const init = (pod.spec.initContainers ?? []).find((c) => c.name === container.name);
    if (init && !isSidecar(init)) {
      this.reusable[uid] ??= {};
      const byMask = this.reusable[uid];
      for (const block of blocks) {
        const key = new NumaMask(block.numaAffinity).toString();
        byMask[key] ??= {};
        const byType = byMask[key];
        if (block.size > (byType[block.type] ?? 0)) byType[block.type] = block.size;
      }
      return;
    }
    for (const block of blocks) {
      const byType = this.reusable[uid]?.[new NumaMask(block.numaAffinity).toString()];
      const reusable = byType?.[block.type] ?? 0;
      if (!byType || reusable === 0) continue;
      byType[block.type] = block.size >= reusable ? 0 : reusable - block.size;
    }
  }

  /**
   * Upstream updateInitContainersMemoryBlocks: the regular init containers before this one give up
   * the part of their blocks (same type and nodes) that this container reused, so the pod's blocks
   * sum to what it holds.
   */
  private updateInitContainersBlocks(
    state: MemoryCheckpointContent,
    pod: Pod,
    container: Container,
    blocks: readonly MemoryBlock[],
  ): void {
    const uid = pod.metadata.uid ?? '';
    for (const block of blocks) {
      let size = block.size;
      for (const init of pod.spec.initContainers ?? []) {
        if (init.name === container.name || size === 0) break;
        if (isSidecar(init)) continue;
        const initBlocks = state.entries[uid]?.[init.name];
        if (!initBlocks || initBlocks.length === 0) continue;
        for (const initBlock of initBlocks) {
          if (initBlock.size === 0 || initBlock.type !== block.type) continue;
          if (!new NumaMask(initBlock.numaAffinity).equals(new NumaMask(block.numaAffinity))) continue;
          const taken = Math.min(initBlock.size, size);
          initBlock.size -= taken;
          size -= taken;
        }
      }
    }
  }

  /** Upstream RemoveContainer (idempotent): the container's blocks go back to their nodes. */
  removeContainer(state: MemoryCheckpointContent, podUid: string, name: string): boolean {
    const blocks = state.entries[podUid]?.[name];
    if (!blocks) return false;
    delete state.entries[podUid]![name];
    if (Object.keys(state.entries[podUid]!).length === 0) delete state.entries[podUid];
    for (const block of blocks) {
      let released = block.size;
      for (const id of block.numaAffinity) {
        const node = state.machineState[id]!;
        node.numberOfAssignments--;
        if (node.numberOfAssignments === 0) node.cells = [id];
        const table = node.memoryMap[block.type];
        if (released === 0 || !table || table.reserved === 0) continue;
        const back = Math.min(table.reserved, released);
        table.reserved -= back;
        table.free += back;
        released -= back;
      }
    }
    return true;
  }

  /** Upstream GetAllocatableMemory: one block per node and memory type with allocatable memory. */
  allocatableMemory(state: MemoryCheckpointContent): MemoryBlock[] {
    const blocks: MemoryBlock[] = [];
    for (const [id, node] of Object.entries(state.machineState))
      for (const [type, table] of Object.entries(node.memoryMap))
        if (table.allocatable !== 0)
          blocks.push({ numaAffinity: [Number(id)], type, size: table.allocatable });
    return blocks;
  }
}

/**
 * Upstream updateMachineState (and validateState's replay): every node of the group counts one
 * more assignment and joins the group; `size` bytes are taken from their free memory in order.
 */
function reserveOnNodes(machine: NumaNodeMap, nodes: readonly number[], type: string, size: number): void {
  let left = size;
  for (const id of nodes) {
    const node = machine[id]!;
    node.numberOfAssignments++;
    node.cells = [...nodes];
    const table = node.memoryMap[type];
    if (left === 0 || !table || table.free <= 0) continue;
    const taken = Math.min(table.free, left);
    table.reserved += taken;
    table.free -= taken;
    left -= taken;
  }
}

/** Upstream isAffinityViolatingNUMAAllocations: a group may not take a node used alone or by another group. */
function violatesNumaAllocations(machine: NumaNodeMap, mask: NumaMask): boolean {
  if (mask.count === 1) return false;
  return mask.bits.some((id) => {
    const node = machine[id]!;
    if (node.numberOfAssignments === 0) return false;
    return node.cells.length === 1 || !sameGroup(node.cells, mask.bits);
  });
}

/**
 * Upstream regenerateHints: after a restart, the container's blocks are its one preferred hint
 * per type; blocks that no longer match the request give no hints (the pod cannot be admitted
 * as asked), and upstream then returns no map at all.
 */
function regenerateHints(blocks: readonly MemoryBlock[], requests: MemoryRequests): ResourceHints {
  if (blocks.length !== Object.keys(requests).length) return undefined;
  const hints: Record<string, TopologyHint[]> = {};
  for (const type of Object.keys(requests)) hints[type] = [];
  for (const block of blocks) {
    if (requests[block.type] === undefined || requests[block.type] !== block.size) return undefined;
    hints[block.type]!.push({ affinity: new NumaMask(block.numaAffinity), preferred: true });
  }
  return hints;
}

/**
 * Upstream areMachineStatesEqual: the same nodes, assignments, groups and sizes, with free and
 * reserved compared summed over each node's group (blocks of a group may land on either node).
 */
function machineStatesEqual(a: NumaNodeMap, b: NumaNodeMap): boolean {
  const ids = Object.keys(a);
  if (ids.length !== Object.keys(b).length) return false;
  for (const id of ids) {
    const x = a[Number(id)]!;
    const y = b[Number(id)];
    if (!y || x.numberOfAssignments !== y.numberOfAssignments || !sameGroup(x.cells, y.cells)) return false;
    const types = Object.keys(x.memoryMap);
    if (types.length !== Object.keys(y.memoryMap).length) return false;
    for (const type of types) {
      const p = x.memoryMap[type]!;
      const q = y.memoryMap[type];
      if (
        !q ||
        p.total !== q.total ||
        p.systemReserved !== q.systemReserved ||
        p.allocatable !== q.allocatable
      )
        return false;
      const sum = (state: NumaNodeMap, field: 'free' | 'reserved') =>
        x.cells.reduce((total, cell) => total + (state[cell]?.memoryMap[type]?.[field] ?? 0), 0);
      if (sum(a, 'free') !== sum(b, 'free') || sum(a, 'reserved') !== sum(b, 'reserved')) return false;
    }
  }
  return true;
}
