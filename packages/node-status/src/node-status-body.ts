import type { V1NodeCondition } from '@kubernetes/client-node';
import type { ResourceList } from './capacity';
import type { MachineInfo } from './machine-info';
import type { NodeAddress } from './node-addresses';
import type { NodeConditionLike } from './node-conditions';
import {
  type NodeRuntimeHandlerWire,
  type RuntimeStatusFeatures,
  runtimeStatusFields,
} from './runtime-handlers';
import { containerRuntimeVersion } from './runtime-version';

/** Container runtime identity from CRI Version (injected so this package needs no CRI client). */
export interface RuntimeVersion {
  runtimeName: string;
  runtimeVersion: string;
}

/** One entry of a Node's status.images: its names and size. */
export interface NodeImage {
  names: string[];
  sizeBytes: number;
  /** Runtime image ID: orders images of equal size (not sent in status). */
  id?: string;
}

/** An image as CRI ListImages returns it (only the fields node status needs). */
export interface CriImageListing {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number | string | bigint;
}

/** Node status names of CRI images: repo digests first, then repo tags (upstream Images setter). */
export function nodeImagesFromCri(images: readonly CriImageListing[]): NodeImage[] {
  return images.map((i) => ({
    id: i.id,
    names: [...i.repoDigests, ...i.repoTags],
    sizeBytes: Number(i.size),
  }));
}

/** Upstream keeps at most five names per image in node status. */
export const MAX_NAMES_PER_IMAGE = 5;

/** core/v1 NodeCondition in its JSON wire form: client-node's fields, times as RFC 3339 strings. */
export type NodeConditionWire = Omit<V1NodeCondition, 'lastHeartbeatTime' | 'lastTransitionTime'> & {
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
};

/** Node status in its JSON wire form (times as RFC 3339 strings, `Port` capitalised). */
export interface NodeStatusWire {
  capacity: ResourceList;
  allocatable: ResourceList;
  conditions: NodeConditionWire[];
  addresses: NodeAddress[];
  daemonEndpoints: { kubeletEndpoint: { Port: number } };
  nodeInfo: {
    machineID: string;
    systemUUID: string;
    bootID: string;
    kernelVersion: string;
    osImage: string;
    containerRuntimeVersion: string;
    kubeletVersion: string;
    kubeProxyVersion: string;
    operatingSystem: string;
    architecture: string;
    /** The node's swap (upstream NodeSwapStatus), only when it has some. */
    swap?: { capacity: number };
  };
  images: NodeImage[];
  /** KEP-5328 declared features, sorted; left out when there are none (omitempty). */
  declaredFeatures?: string[];
  /** The runtime's handlers (CRI Status); left out when it lists none (containerd 1.6). */
  runtimeHandlers?: NodeRuntimeHandlerWire[];
  /** The runtime's features (CRI Status); left out when it sends none (containerd 1.6). */
  features?: { supplementalGroupsPolicy: boolean };
  /**
   * The attachable volumes the kubelet's pods use (`kubernetes.io/csi/<driver>^<handle>`), sorted;
   * left out when there are none (omitempty), `[]` only to clear a list the server still has.
   */
  volumesInUse?: string[];
}

/** Everything a Node status is assembled from. */
export interface StatusBodyInputs {
  capacity: ResourceList;
  allocatable: ResourceList;
  conditions: NodeConditionLike[];
  addresses: NodeAddress[];
  machine: MachineInfo;
  runtime: RuntimeVersion | undefined;
  images: NodeImage[];
  maxImages: number;
  kubeletPort: number;
  kubeletVersion: string;
  /** The node's declared features (see `declaredFeatures`); none when omitted. */
  declaredFeatures?: readonly string[];
  /** The runtime's handlers and features from CRI Status; undefined: not known (left out). */
  runtimeStatus?: RuntimeStatusFeatures;
  /** The volumes in use (upstream's VolumesInUse setter); none when omitted. */
  volumesInUse?: readonly string[];
}

/** Assembles the status sent to the API server. */
export function buildNodeStatus(inp: StatusBodyInputs): NodeStatusWire {
  return {
    capacity: inp.capacity,
    allocatable: inp.allocatable,
    conditions: inp.conditions.map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      lastHeartbeatTime: formatTime(c.lastHeartbeatTime),
      lastTransitionTime: formatTime(c.lastTransitionTime),
    })),
    addresses: inp.addresses,
    daemonEndpoints: { kubeletEndpoint: { Port: inp.kubeletPort } },
    nodeInfo: {
      machineID: inp.machine.machineID,
      systemUUID: inp.machine.systemUUID,
      bootID: inp.machine.bootID,
      kernelVersion: inp.machine.kernelVersion,
      osImage: inp.machine.osImage,
      containerRuntimeVersion: inp.runtime ? containerRuntimeVersion(inp.runtime) : '',
      kubeletVersion: inp.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: inp.machine.operatingSystem,
      architecture: inp.machine.architecture,
      // NodeSwap (GA): the capacity in bytes; a node without swap leaves the field out.
      ...(inp.machine.swapCapacityBytes ? { swap: { capacity: inp.machine.swapCapacityBytes } } : {}),
    },
    images: topImages(inp.images, inp.maxImages),
    ...(inp.declaredFeatures?.length ? { declaredFeatures: [...inp.declaredFeatures].sort() } : {}),
    ...runtimeStatusFields(inp.runtimeStatus),
    ...(inp.volumesInUse?.length ? { volumesInUse: [...inp.volumesInUse].sort() } : {}),
  };
}

/**
 * Largest images first (equal sizes by descending ID, like upstream's ByImageSize), capped like
 * nodeStatusMaxImages (-1 means no cap).
 */
export function topImages(images: readonly NodeImage[], max: number): NodeImage[] {
  const sorted = [...images].sort(
    (a, b) =>
      b.sizeBytes - a.sizeBytes || ((b.id ?? '') > (a.id ?? '') ? 1 : (b.id ?? '') < (a.id ?? '') ? -1 : 0),
  );
  return (max < 0 ? sorted : sorted.slice(0, max)).map((i) => ({
    names: i.names.slice(0, MAX_NAMES_PER_IMAGE),
    sizeBytes: i.sizeBytes,
  }));
}

/** metav1.Time has second precision: "2026-01-01T00:00:00Z". */
export function formatTime(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const d = t instanceof Date ? t : new Date(t);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The status with heartbeat times removed, as one string: whether two computed statuses differ.
 * (The reporter decides against the API server's copy instead: `nodeStatusHasChanged`.)
 */
export function statusFingerprint(status: NodeStatusWire): string {
  return JSON.stringify({
    ...status,
    conditions: status.conditions.map(({ lastHeartbeatTime: _hb, ...rest }) => rest),
  });
}

/**
 * Strategic-merge patch body for the status subresource. Conditions and addresses carry
 * `patchMergeKey: type`, so each listed entry merges into the one with the same type and
 * conditions set by other components survive. `labels` (the OS and architecture labels when they
 * must be set again) merge into the Node's: a Node's status subresource takes its metadata too.
 */
export function statusPatch(
  status: NodeStatusWire,
  labels?: Record<string, string>,
): { metadata?: { labels: Record<string, string> }; status: NodeStatusWire } {
  return labels ? { metadata: { labels }, status } : { status };
}
