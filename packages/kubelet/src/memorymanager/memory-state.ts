/**
 * The memory manager's state as upstream's memorymanager/state package holds it and its
 * checkpoint stores it: per NUMA node, each memory type's sizes and who shares the node; per
 * container, the blocks of memory it was given. Field names are the checkpoint's JSON names.
 */

/** One memory type on one NUMA node (upstream MemoryTable), in bytes. */
export interface MemoryTable {
  /** Upstream TotalMemSize: the node's memory of this type (huge pages: count × page size). */
  total: number;
  /** Upstream SystemReserved: what reservedMemory keeps for the system on this node. */
  systemReserved: number;
  /** total − systemReserved (for memory also minus the node's huge pages). */
  allocatable: number;
  /** Given to containers. */
  reserved: number;
  /** allocatable − reserved. */
  free: number;
}

/** One NUMA node (upstream NUMANodeState). */
export interface NumaNodeState {
  /** How many blocks use this node (a container with memory and huge pages counts twice). */
  numberOfAssignments: number;
  /** By memory type: `memory`, `hugepages-2Mi`, `hugepages-1Gi`. */
  memoryMap: Record<string, MemoryTable>;
  /** This node and every node it is grouped with by a cross-NUMA allocation, else just itself. */
  cells: number[];
}

/** Every NUMA node's state, by node id (upstream NUMANodeMap). */
export type NumaNodeMap = Record<number, NumaNodeState>;

/** Memory of one type given to a container from a set of NUMA nodes (upstream Block). */
export interface MemoryBlock {
  numaAffinity: number[];
  /** `memory` or a huge pages resource name. */
  type: string;
  /** Bytes. */
  size: number;
}

/** Pod UID → container name → its blocks (upstream ContainerMemoryAssignments). */
export type ContainerMemoryAssignments = Record<string, Record<string, MemoryBlock[]>>;

/** A deep copy of a machine state (upstream NUMANodeMap.Clone). */
export function cloneMachineState(state: NumaNodeMap): NumaNodeMap {
  const copy: NumaNodeMap = {};
  for (const [id, node] of Object.entries(state)) {
    const memoryMap: Record<string, MemoryTable> = {};
    for (const [type, table] of Object.entries(node.memoryMap)) memoryMap[type] = { ...table };
    copy[Number(id)] = { numberOfAssignments: node.numberOfAssignments, memoryMap, cells: [...node.cells] };
  }
  return copy;
}
