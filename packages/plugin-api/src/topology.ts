// Messages the device plugin v1beta1 and pod-resources v1 APIs both define, field for field.

/** A NUMA node by its ID. */
export interface NUMANode {
  ID: number;
}

/** The NUMA nodes a device or memory block is attached to. */
export interface TopologyInfo {
  nodes: NUMANode[];
}

/** A CDI device by its fully qualified name (`vendor.com/class=name`). */
export interface CDIDevice {
  name: string;
}
