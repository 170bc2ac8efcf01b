import {
  type NodeAffinityNode,
  type NodeAffinityPod,
  requiredNodeAffinityMatches,
} from '@nodeagent/primitives/scheduling';
import type { KubeObject } from './kube-object';
import { quantityValue } from './pod-qos';
import { findUntoleratedTaint, TAINT_UNSCHEDULABLE, taintsOf, tolerationsOf } from './taints';

/**
 * kube-scheduler's default filter plugins that matter on a node-agent test cluster, in the
 * default profile's order (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit),
 * each answering with upstream's reason texts. The first failing plugin decides, as in
 * RunFilterPlugins; NodeResourcesFit reports every insufficient resource.
 */

type Obj = Record<string, unknown>;

export interface FilterResult {
  reasons: string[];
  /** UnschedulableAndUnresolvable: preemption cannot help on this node. */
  unresolvable: boolean;
}

export interface Requests {
  cpu: number;
  memory: number;
}

function sumRequests(containers: Obj[] | undefined): Requests {
  const out = { cpu: 0, memory: 0 };
  for (const c of containers ?? []) {
    const req = ((c.resources as Obj | undefined)?.requests ?? {}) as Obj;
    const cpu = quantityValue(req.cpu ?? 0);
    const mem = quantityValue(req.memory ?? 0);
    out.cpu += Number.isNaN(cpu) ? 0 : cpu;
    out.memory += Number.isNaN(mem) ? 0 : mem;
  }
  return out;
}

/** A pod's requests: max(sum over containers, each init container) plus overhead (no sidecar rules). */
export function podRequests(pod: KubeObject): Requests {
  const spec = (pod.spec ?? {}) as Obj;
  const main = sumRequests(spec.containers as Obj[] | undefined);
  for (const init of (spec.initContainers as Obj[] | undefined) ?? []) {
    const r = sumRequests([init]);
    main.cpu = Math.max(main.cpu, r.cpu);
    main.memory = Math.max(main.memory, r.memory);
  }
  const overhead = sumRequests([{ resources: { requests: spec.overhead ?? {} } }]);
  return { cpu: main.cpu + overhead.cpu, memory: main.memory + overhead.memory };
}

function allocatable(node: KubeObject): { cpu: number; memory: number; pods: number } {
  const a = ((node.status as Obj | undefined)?.allocatable ?? {}) as Obj;
  const num = (v: unknown, dflt: number) => {
    if (v === undefined) return dflt;
    const n = quantityValue(v);
    return Number.isNaN(n) ? 0 : n;
  };
  // A node that reports no allocatable (a bare test Node) is treated as unlimited.
  return { cpu: num(a.cpu, Infinity), memory: num(a.memory, Infinity), pods: num(a.pods, Infinity) };
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (@nodeagent/primitives' matcher). */
export function matchesNodeAffinity(pod: KubeObject, node: KubeObject): boolean {
  return requiredNodeAffinityMatches(pod as NodeAffinityPod, node as NodeAffinityNode);
}

/** Run the filters for one pod on one node; `assigned` are the non-terminal pods bound to it. */
export function filterNode(pod: KubeObject, node: KubeObject, assigned: KubeObject[]): FilterResult {
  const tolerations = tolerationsOf(pod);
  const taints = taintsOf(node);
  if ((node.spec as Obj | undefined)?.unschedulable) {
    const tolerated = tolerations.some(
      (t) =>
        (t.key === TAINT_UNSCHEDULABLE || (!t.key && t.operator === 'Exists')) &&
        (!t.effect || t.effect === 'NoSchedule'),
    );
    if (!tolerated) return { reasons: ['node(s) were unschedulable'], unresolvable: true };
  }
  const untolerated = findUntoleratedTaint(
    taints,
    tolerations,
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  if (untolerated) {
    // Since v1.34.2 (kubernetes#134740) the reason no longer names the taint (it may be
    // sensitive); v1.34.0-1 said `node(s) had untolerated taint {key: value}`.
    return { reasons: ['node(s) had untolerated taint(s)'], unresolvable: true };
  }
  if (!matchesNodeAffinity(pod, node)) {
    return { reasons: ["node(s) didn't match Pod's node affinity/selector"], unresolvable: true };
  }
  const cap = allocatable(node);
  const want = podRequests(pod);
  const used = assigned
    .map(podRequests)
    .reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), {
      cpu: 0,
      memory: 0,
    });
  const reasons: string[] = [];
  if (assigned.length + 1 > cap.pods) reasons.push('Too many pods');
  if (want.cpu > 0 && want.cpu > cap.cpu - used.cpu + 1e-9) reasons.push('Insufficient cpu');
  if (want.memory > 0 && want.memory > cap.memory - used.memory) reasons.push('Insufficient memory');
  return { reasons, unresolvable: false };
}

/** Scoring counts a container without requests as 100m cpu / 200Mi (upstream GetNonzeroRequests). */
function scoringRequests(pod: KubeObject): Requests {
  const containers = ((pod.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? [];
  const out = { cpu: 0, memory: 0 };
  for (const c of containers) {
    const r = sumRequests([c]);
    out.cpu += r.cpu > 0 ? r.cpu : 0.1;
    out.memory += r.memory > 0 ? r.memory : 200 * 2 ** 20;
  }
  return out;
}

/**
 * Score for NodeResourcesFit's LeastAllocated: the higher, the emptier the node after placing
 * the pod (nodes without allocatable count as empty).
 */
export function leastAllocatedScore(pod: KubeObject, node: KubeObject, assigned: KubeObject[]): number {
  const cap = allocatable(node);
  const used = assigned
    .map(scoringRequests)
    .reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), scoringRequests(pod));
  const free = (total: number, u: number) =>
    Number.isFinite(total) && total > 0 ? Math.max(0, (total - u) / total) : 1;
  return (free(cap.cpu, used.cpu) + free(cap.memory, used.memory)) / 2;
}

/**
 * upstream FitError.Error(): "0/N nodes are available: <count reason, ...sorted>. no new claims
 * to deallocate, preemption:
 * 0/N nodes are available: <count Preemption is not helpful for scheduling | No preemption
 * victims found for incoming pod>." This scheduler never preempts, so nodes that failed only on
 * resources count as having no victims.
 */
export function fitErrorMessage(total: number, results: FilterResult[]): string {
  const histogram = new Map<string, number>();
  for (const r of results)
    for (const reason of r.reasons) histogram.set(reason, (histogram.get(reason) ?? 0) + 1);
  const reasons = [...histogram].map(([k, v]) => `${v} ${k}`).sort();
  let msg = `0/${total} nodes are available:`;
  if (reasons.length > 0) msg += ` ${reasons.join(', ')}.`;
  const notHelpful = results.filter((r) => r.unresolvable).length + (total - results.length);
  const noVictims = results.filter((r) => !r.unresolvable).length;
  const pre = [
    ...(noVictims > 0 ? [`${noVictims} No preemption victims found for incoming pod`] : []),
    ...(notHelpful > 0 ? [`${notHelpful} Preemption is not helpful for scheduling`] : []),
  ].sort();
  // PostFilter plugins in profile order: DynamicResources (DRA is GA and on in v1.34; a pod with
  // no claims has nothing to deallocate), then DefaultPreemption.
  msg += ` no new claims to deallocate, preemption: 0/${total} nodes are available: ${pre.join(', ')}.`;
  return msg;
}
