import type { ControllerClock } from './controller-clock';
import { recordEvent } from './controller-events';
import { ControllerQueue, type RunningController } from './controller-queue';
import { startDraCycle } from './dra-scheduling';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';
import { type FilterResult, filterNode, fitErrorMessage, leastAllocatedScore } from './scheduler-filters';

/** kube-scheduler (one profile, its filter plugins only). */
export interface SchedulerOptions {
  /** Pods whose spec.schedulerName is this are scheduled. Default `default-scheduler`. */
  schedulerName?: string;
}

/** The scheduler name pods get when they name none. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

const NODES = findResourceType('', 'v1', 'nodes') as ResourceType;
const PODS = findResourceType('', 'v1', 'pods') as ResourceType;

export interface Scheduler extends RunningController {
  /** Try every pending pod again now (what a cluster event does upstream). */
  retryAll(): void;
  /** Pods (`namespace/name`) a PreEnqueue check keeps out of the queue, with its reason (DRA claims not ready). */
  waiting(): ReadonlyMap<string, string>;
}

type Obj = Record<string, unknown>;

function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

const nodeNameOf = (p: KubeObject | undefined) => (p?.spec as { nodeName?: string } | undefined)?.nodeName;
const phaseOf = (p: KubeObject | undefined) => (p?.status as { phase?: string } | undefined)?.phase;
const terminal = (p: KubeObject) => phaseOf(p) === 'Succeeded' || phaseOf(p) === 'Failed';

/** What of a node the filters read: a change elsewhere (heartbeats) does not requeue pods. */
function schedulingView(n: KubeObject | undefined): string {
  if (!n) return '';
  const spec = (n.spec ?? {}) as Obj;
  return JSON.stringify([
    n.metadata.labels ?? {},
    spec.unschedulable ?? false,
    spec.taints ?? [],
    (n.status as Obj | undefined)?.allocatable ?? {},
  ]);
}

/** Set the pod's PodScheduled condition (a no-op when it already says the same); the updated pod, if written. */
function setScheduledCondition(
  registry: ResourceRegistry,
  clock: ControllerClock,
  pod: KubeObject,
  condition: Obj,
): KubeObject | undefined {
  const status = (pod.status ?? {}) as { conditions?: Obj[] };
  const conditions = status.conditions ?? [];
  const old = conditions.find((c) => c.type === 'PodScheduled');
  if (
    old &&
    old.status === condition.status &&
    old.reason === condition.reason &&
    old.message === condition.message
  )
    return undefined;
  const next = {
    type: 'PodScheduled',
    ...condition,
    lastProbeTime: null,
    lastTransitionTime:
      old && old.status === condition.status ? old.lastTransitionTime : rfc3339(clock.now()),
  };
  return registry.update(
    PODS,
    pod.metadata.namespace,
    pod.metadata.name as string,
    {
      ...pod,
      status: { ...status, conditions: [...conditions.filter((c) => c.type !== 'PodScheduled'), next] },
    },
    'status',
  );
}

/**
 * A kube-scheduler with the default profile's filters (scheduler-filters.ts) and
 * LeastAllocated scoring (ties: fewest pods, then node name): pods with no spec.nodeName whose
 * schedulerName is this scheduler's are bound through pods/binding semantics, get PodScheduled
 * True and a `Scheduled` event ("Successfully assigned ns/name to node"); a pod no node fits
 * gets PodScheduled False `Unschedulable` with upstream's FitError message and a
 * `FailedScheduling` event, and is tried again when a node is added or changes what the
 * filters read, or an assigned pod goes away or finishes. No preemption, no backoff timer, no
 * inter-pod affinity, topology spread, ports or volumes.
 */
export function startScheduler(
  registry: ResourceRegistry,
  clock: ControllerClock,
  options: SchedulerOptions = {},
): Scheduler {
  const name = options.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  if (!name) throw new RangeError('scheduler.schedulerName: must not be empty');

  const pending = (p: KubeObject) =>
    !nodeNameOf(p) &&
    !p.metadata.deletionTimestamp &&
    !terminal(p) &&
    ((p.spec as { schedulerName?: string } | undefined)?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === name;

  /** Pods DynamicResources' PreEnqueue keeps out of the queue, with the reason. */
  const waiting = new Map<string, string>();

  function unschedulable(pod: KubeObject, message: string): void {
    const updated = setScheduledCondition(registry, clock, pod, {
      status: 'False',
      reason: 'Unschedulable',
      message,
    });
    recordEvent(registry, clock.now(), {
      object: updated ?? pod,
      type: 'Warning',
      reason: 'FailedScheduling',
      message,
      component: name,
    });
  }

  function scheduleOne(key: string): void {
    const [ns, podName] = key.split('/') as [string, string];
    const pod = registry.find(PODS, ns, podName);
    if (!pod || !pending(pod)) {
      waiting.delete(key);
      return;
    }
    const nodes = registry.list(NODES, undefined);
    const pods = registry.list(PODS, undefined).filter((p) => nodeNameOf(p) && !terminal(p));
    const results: FilterResult[] = [];
    const feasible: { node: KubeObject; score: number; pods: number }[] = [];
    // DynamicResources: the pod's ResourceClaims must exist and be allocatable on the node. A
    // PreEnqueue rejection keeps the pod out of the scheduling queue: no attempt, so no
    // condition or event, until a claim changes.
    const dra = startDraCycle(registry, pod);
    if (typeof dra === 'string') {
      waiting.set(key, dra);
      return;
    }
    waiting.delete(key);
    for (const node of nodes) {
      const assigned = pods.filter((p) => nodeNameOf(p) === node.metadata.name);
      const fit = filterNode(pod, node, assigned);
      const r = fit.reasons.length === 0 ? (dra?.filter(node) ?? fit) : fit;
      if (r.reasons.length === 0)
        feasible.push({ node, score: leastAllocatedScore(pod, node, assigned), pods: assigned.length });
      else results.push(r);
    }
    if (feasible.length === 0) {
      unschedulable(
        pod,
        nodes.length === 0 ? 'no nodes available to schedule pods' : fitErrorMessage(nodes.length, results),
      );
      return;
    }
    // Ties (nodes without allocatable): fewest pods first, as the default topology spread over
    // hostnames would, then name.
    feasible.sort(
      (a, b) =>
        b.score - a.score ||
        a.pods - b.pods ||
        String(a.node.metadata.name).localeCompare(String(b.node.metadata.name)),
    );
    const target = (feasible[0] as { node: KubeObject }).node.metadata.name as string;
    // Reserve and PreBind: the claims are allocated and reserved for the pod before it is bound.
    dra?.reserve(target);
    registry.bind(PODS, ns, podName, { target: { kind: 'Node', name: target } });
    // The binding REST storage sets PodScheduled True along with spec.nodeName.
    const bound = registry.get(PODS, ns, podName);
    const updated = setScheduledCondition(registry, clock, bound, { status: 'True' });
    recordEvent(registry, clock.now(), {
      object: updated ?? bound,
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${ns}/${podName} to ${target}`,
      component: name,
    });
  }
  const queue = new ControllerQueue(scheduleOne, 3);

  function retryAll(): void {
    for (const p of registry.list(PODS, undefined))
      if (pending(p)) queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
  }

  const unsubscribe = registry.store.subscribe((e) => {
    if (e.resource === '/nodes') {
      if (
        e.type === 'ADDED' ||
        (e.type === 'MODIFIED' && schedulingView(e.object) !== schedulingView(e.oldObject))
      )
        retryAll();
      return;
    }
    // Slices, classes and claims changing can make a waiting pod with claims schedulable.
    if (e.resource.startsWith('resource.k8s.io/')) {
      if (e.resource !== 'resource.k8s.io/resourceclaimtemplates') retryAll();
      return;
    }
    if (e.resource !== '/pods') return;
    const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    if (e.type === 'DELETED') waiting.delete(key);
    if (e.type === 'ADDED') {
      if (pending(e.object)) queue.add(key);
      return;
    }
    const old = e.oldObject;
    // An assigned pod that goes away, finishes or starts terminating frees its node's resources.
    const freed =
      old !== undefined &&
      nodeNameOf(old) !== undefined &&
      !terminal(old) &&
      (e.type === 'DELETED' || terminal(e.object));
    if (freed) retryAll();
  });
  retryAll();

  return {
    retryAll,
    waiting: () => new Map(waiting),
    settled: () => queue.settled(),
    idle: () => queue.idle(),
    stop() {
      queue.stop();
      unsubscribe();
    },
  };
}
