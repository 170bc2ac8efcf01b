import type { KubeObject } from '@nodeagent/testing';
import type { ClusterApi } from './scenario-box';

/** The few wire fields the scenarios read (the API returns plain JSON). */
export interface Taint {
  key: string;
  effect: string;
  value?: string;
  timeAdded?: string;
}

export interface NodeState {
  name: string;
  /** The Ready condition's status ("True", "False", "Unknown"), reason and message. */
  ready: string;
  reason: string;
  message: string;
  taints: Taint[];
}

export interface PodState {
  name: string;
  uid: string;
  nodeName: string;
  phase: string;
  /** Set once the pod is being deleted (graceful deletion waits for the kubelet). */
  deleting: boolean;
  /** Name of the controlling owner (the ReplicaSet), if any. */
  owner: string;
  labels: Record<string, string>;
}

interface NodeObject extends KubeObject {
  spec?: { taints?: Taint[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export function nodeState(api: ClusterApi, name: string): NodeState | undefined {
  const node = api.get('v1', 'nodes', undefined, name) as NodeObject | undefined;
  if (!node) return undefined;
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name,
    ready: ready?.status ?? 'Unknown',
    reason: ready?.reason ?? '',
    message: ready?.message ?? '',
    taints: node.spec?.taints ?? [],
  };
}

/** The Node's Lease renewTime in kube-node-lease (ms since epoch), undefined if none. */
export function leaseRenewTime(api: ClusterApi, node: string): number | undefined {
  const lease = api.get('coordination.k8s.io/v1', 'leases', 'kube-node-lease', node) as
    | (KubeObject & { spec?: { renewTime?: string } })
    | undefined;
  const time = lease?.spec?.renewTime;
  return time ? Date.parse(time) : undefined;
}

export function podStates(api: ClusterApi, namespace: string): PodState[] {
  return (
    api.list('v1', 'pods', namespace) as (KubeObject & {
      spec?: { nodeName?: string };
      status?: { phase?: string };
    })[]
  ).map((p) => ({
    name: p.metadata.name ?? '',
    uid: p.metadata.uid ?? '',
    nodeName: p.spec?.nodeName ?? '',
    phase: p.status?.phase ?? 'Pending',
    deleting: Boolean(p.metadata.deletionTimestamp),
    owner: p.metadata.ownerReferences?.find((o) => o.controller)?.name ?? '',
    labels: p.metadata.labels ?? {},
  }));
}

/** Upstream's taint keys for an unreachable node (node lifecycle controller). */
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
