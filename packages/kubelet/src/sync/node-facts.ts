import type { ResourceList } from '../api/pod-types';
import type { RuntimeFeatures } from '../cri/pod-runtime';

/** What the syncs read of the node as the kubelet last learnt it. */
export interface NodeFactsReader {
  /**
   * The node's allocatable resources (the Node's status.allocatable once reported), which
   * limits.* of a container without limits resolve to in the downward API.
   */
  readonly allocatable: ResourceList | undefined;
  /** What the runtime reported it supports (read at start); undefined: nothing. */
  readonly runtimeFeatures: RuntimeFeatures | undefined;
}

/**
 * The node facts the kubelet learns after it is built (allocatable from the node status, the
 * runtime's features at start): written by the kubelet, read at each use by the syncs.
 */
export class NodeFacts implements NodeFactsReader {
  allocatable: ResourceList | undefined;
  runtimeFeatures: RuntimeFeatures | undefined;

  constructor(allocatable?: ResourceList) {
    this.allocatable = allocatable;
  }
}
