import type { NodeGetInfoResponse } from '@nodeagent/csi-client';

/** One entry of CSINode.spec.drivers, as upstream's nodeinfomanager writes it. */
export interface CsiNodeDriver {
  name: string;
  nodeID: string;
  /** The driver's topology segment keys, sorted. */
  topologyKeys: string[];
  /** Present only when the driver reports max_volumes_per_node > 0. */
  allocatable?: { count: number };
}

/**
 * Where a registered driver's node facts go (upstream pkg/volume/csi/nodeinfomanager): its entry
 * in this node's CSINode object, and its topology segments as labels on the Node.
 */
export interface CsiNodeInfo {
  /** Labels the Node with the driver's topology and adds the driver to this node's CSINode. */
  installDriver(driver: CsiNodeDriver, topology: Readonly<Record<string, string>>): Promise<void>;
  /** Removes the named driver from this node's CSINode. */
  uninstallDriver(name: string): Promise<void>;
  /**
   * Sets the named driver's `allocatable.count` in this node's CSINode to `maxVolumesPerNode`
   * (none when it is 0), writing only when it differs (upstream's UpdateCSIDriver).
   */
  updateDriverAllocatable(name: string, maxVolumesPerNode: number): Promise<void>;
}

/** Go's math.MaxInt32: the most a CSINode's allocatable count holds (upstream truncates to it). */
const MAX_INT32 = 2 ** 31 - 1;

/** The `allocatable.count` a driver's max_volumes_per_node gives its CSINode entry; none for 0 (no limit). */
export function allocatableCount(maxVolumesPerNode: number): number | undefined {
  return maxVolumesPerNode > 0 ? Math.min(maxVolumesPerNode, MAX_INT32) : undefined;
}

/** A driver's CSINode entry from its NodeGetInfo answer. */
export function csiNodeDriver(name: string, info: NodeGetInfoResponse): CsiNodeDriver {
  const segments = info.accessibleTopology?.segments ?? {};
  const count = allocatableCount(info.maxVolumesPerNode);
  return {
    name,
    nodeID: info.nodeId,
    topologyKeys: Object.keys(segments).sort(),
    ...(count !== undefined ? { allocatable: { count } } : {}),
  };
}
