import type { ControllerClock, ControllerTimer } from './controller-clock';
import { recordEvent } from './controller-events';
import { ControllerQueue, type RunningController } from './controller-queue';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';
import {
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_NOT_READY,
  TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  type Taint,
  taintsOf,
} from './taints';

/** kube-controller-manager's node lifecycle controller; defaults are upstream v1.34's. */
export interface NodeLifecycleControllerOptions {
  /** --node-monitor-period: how often each node's health is checked. Default 5 s. */
  nodeMonitorPeriodSeconds?: number;
  /**
   * --node-monitor-grace-period: how long a node may go without renewing its Lease (or posting
   * status) before it is marked Ready=Unknown. Default 50 s (upstream since v1.32; 40 s before).
   */
  nodeMonitorGracePeriodSeconds?: number;
  /** --node-startup-grace-period: the same for a node that never posted status. Default 60 s. */
  nodeStartupGracePeriodSeconds?: number;
}

/** kube-controller-manager's node lifecycle timings, used when options leave them out. */
export const NODE_LIFECYCLE_DEFAULTS = {
  nodeMonitorPeriodSeconds: 5,
  nodeMonitorGracePeriodSeconds: 50,
  nodeStartupGracePeriodSeconds: 60,
} as const;

/** scheduler.NodeEvictionPeriod: how often upstream's doNoExecuteTaintingPass runs. */
export const NODE_EVICTION_PERIOD_MS = 100;

const NODES = findResourceType('', 'v1', 'nodes') as ResourceType;
const PODS = findResourceType('', 'v1', 'pods') as ResourceType;
const LEASES = findResourceType('coordination.k8s.io', 'v1', 'leases') as ResourceType;
const COMPONENT = 'node-controller';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
  [k: string]: unknown;
}

/** What the controller remembers of a node between passes (upstream's nodeHealthData). */
interface NodeHealth {
  /** When this controller last saw the node alive (its clock, not the node's). */
  probeMs: number;
  heartbeat: string | undefined;
  hadReady: boolean;
  leaseRenew: string | undefined;
}

export interface NodeLifecycleController extends RunningController {
  /** Run one monitor pass now (what the nodeMonitorPeriod timer does). */
  monitorNow(): void;
}

function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

function conditionsOf(node: KubeObject): Condition[] {
  return ((node.status as { conditions?: Condition[] } | undefined)?.conditions ?? []) as Condition[];
}

function readyOf(node: KubeObject): Condition | undefined {
  return conditionsOf(node).find((c) => c.type === 'Ready');
}

function checkPositive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`nodeLifecycle.${name}: must be a positive number of seconds, got ${String(value)}`);
  }
  return value;
}

/** Condition → the NoSchedule taint it implies (upstream nodeConditionToTaintKeyStatusMap). */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: TAINT_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_PID_PRESSURE },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));

/**
 * kube-controller-manager's node lifecycle controller (pkg/controller/nodelifecycle) over the
 * in-process store:
 * - every nodeMonitorPeriod, a node whose Lease in kube-node-lease was not renewed (and whose
 *   Ready heartbeat did not change) for nodeMonitorGracePeriod (nodeStartupGracePeriod if it
 *   never posted Ready) gets Ready, MemoryPressure, DiskPressure and PIDPressure set to Unknown
 *   (`NodeStatusUnknown`, "Kubelet stopped posting node status."; `NodeStatusNeverUpdated`,
 *   "Kubelet never posted node status." for conditions it never posted); a Node event
 *   `NodeNotReady` and the node's pods' Ready condition set False (MarkPodsNotReady);
 * - NoExecute taints from the Ready status seen on the previous pass, as upstream's
 *   processTaintBaseEviction: Unknown → node.kubernetes.io/unreachable, False →
 *   node.kubernetes.io/not-ready, queued and added by the next 100 ms doNoExecuteTaintingPass
 *   (so nodeMonitorPeriod + ≤100 ms after the status change); swapped for each other and removed
 *   on True at once; with timeAdded;
 * - on every node change, NoSchedule taints from the conditions and spec.unschedulable
 *   (doNoScheduleTaintingPass).
 * Not done: zone disruption states and the eviction rate limiter (--node-eviction-rate): every
 * node is tainted at once.
 */
export function startNodeLifecycleController(
  registry: ResourceRegistry,
  clock: ControllerClock,
  options: NodeLifecycleControllerOptions = {},
): NodeLifecycleController {
  const periodMs =
    checkPositive(
      'nodeMonitorPeriodSeconds',
      options.nodeMonitorPeriodSeconds ?? NODE_LIFECYCLE_DEFAULTS.nodeMonitorPeriodSeconds,
    ) * 1000;
  const graceMs =
    checkPositive(
      'nodeMonitorGracePeriodSeconds',
      options.nodeMonitorGracePeriodSeconds ?? NODE_LIFECYCLE_DEFAULTS.nodeMonitorGracePeriodSeconds,
    ) * 1000;
  const startupGraceMs =
    checkPositive(
      'nodeStartupGracePeriodSeconds',
      options.nodeStartupGracePeriodSeconds ?? NODE_LIFECYCLE_DEFAULTS.nodeStartupGracePeriodSeconds,
    ) * 1000;
  const deps: NodeControllerDeps = { registry, clock };
  const health = new Map<string, NodeHealth>();
  let stopped = false;
  let timer: ControllerTimer | undefined;
  const tainter = new NoExecuteTainter(deps);
  const noScheduleQueue = new ControllerQueue((name) => noScheduleTaints(deps, name));

  /** processPod: a pod (re)appearing on a node that is not Ready is marked not ready too. */
  const podQueue = new ControllerQueue((key) => {
    const [ns, name] = key.split('/') as [string, string];
    const pod = registry.find(PODS, ns, name);
    const nodeName = (pod?.spec as { nodeName?: string } | undefined)?.nodeName;
    const node = nodeName ? registry.find(NODES, undefined, nodeName) : undefined;
    const ready = node && readyOf(node);
    if (pod && nodeName && ready && ready.status !== 'True') markPodsNotReady(deps, nodeName, pod);
  });

  /** tryUpdateNodeHealth + the part of monitorNodeHealth that follows, for one node. */
  function monitorNode(node: KubeObject): void {
    const name = node.metadata.name as string;
    const nowMs = clock.now().getTime();
    const current = readyOf(node);
    // A node that never posted Ready gets the startup grace period.
    const graceForNode = current ? graceMs : startupGraceMs;
    const { h, observed } = observeHealth(registry, node, health.get(name), nowMs);
    health.set(name, h);

    let readyNow: Condition | undefined = current;
    if (nowMs > h.probeMs + graceForNode) {
      const conditions = conditionsGoneUnknown(node, rfc3339(clock.now()));
      readyNow = conditions.find((c) => c.type === 'Ready');
      if (JSON.stringify(readyNow) !== JSON.stringify(current)) {
        registry.update(
          NODES,
          undefined,
          name,
          { ...node, status: { ...((node.status as object) ?? {}), conditions } },
          'status',
        );
        // Upstream keeps the status it wrote, so the next pass does not see a "new heartbeat".
        health.set(name, { ...h, heartbeat: readyNow?.lastHeartbeatTime, hadReady: true });
        if (observed.status === 'True') {
          recordEvent(registry, clock.now(), {
            object: node,
            type: 'Normal',
            reason: 'NodeNotReady',
            message: `Node ${name} status is now: NodeNotReady`,
            component: COMPONENT,
          });
          markPodsNotReady(deps, name);
        }
      }
    }
    if (!readyNow) return;
    tainter.processTaintBaseEviction(name, observed.status);
  }

  function monitorNow(): void {
    if (stopped) return;
    const nodes = registry.list(NODES, undefined);
    for (const name of health.keys()) if (!nodes.some((n) => n.metadata.name === name)) health.delete(name);
    for (const node of nodes) {
      try {
        monitorNode(node);
      } catch {
        // A racing write (409): the next pass looks again, as upstream's retry loop does.
      }
    }
  }

  function tick(): void {
    if (stopped) return;
    monitorNow();
    timer = clock.setTimer(periodMs, tick);
  }

  const unsubscribe = registry.store.subscribe((e) => {
    if (e.resource === '/nodes' && e.type !== 'DELETED')
      noScheduleQueue.add(e.object.metadata.name as string);
    // A pod (re)appearing on a node that is not Ready (processPod).
    if (e.resource === '/pods' && e.type !== 'DELETED') {
      const nodeName = (e.object.spec as { nodeName?: string } | undefined)?.nodeName;
      if (!nodeName || !health.has(nodeName)) return;
      const node = registry.find(NODES, undefined, nodeName);
      const ready = node && readyOf(node);
      if (ready && ready.status !== 'True')
        podQueue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
    }
  });
  for (const n of registry.list(NODES, undefined)) noScheduleQueue.add(n.metadata.name as string);
  // wait.Until runs the first pass at once, then every period.
  tick();

  return {
    monitorNow,
    settled: async () => {
      await noScheduleQueue.settled();
      await podQueue.settled();
    },
    idle: () => noScheduleQueue.idle() && podQueue.idle(),
    stop() {
      stopped = true;
      timer?.cancel();
      tainter.stop();
      noScheduleQueue.stop();
      podQueue.stop();
      unsubscribe();
    },
  };
}

/** What the controller's steps read and write through. */
interface NodeControllerDeps {
  readonly registry: ResourceRegistry;
  readonly clock: ControllerClock;
}

/**
 * The node's health after this look (upstream's tryUpdateNodeHealth, the bookkeeping half): a
 * new Ready heartbeat or a renewed Lease counts as a sign of life now. `observed` is the Ready
 * condition as seen before this pass changes anything (Unknown when the node never posted one).
 */
function observeHealth(
  registry: ResourceRegistry,
  node: KubeObject,
  previous: NodeHealth | undefined,
  nowMs: number,
): { h: NodeHealth; observed: Condition } {
  const current = readyOf(node);
  let h = previous;
  const observed: Condition = current
    ? { ...current }
    : {
        type: 'Ready',
        status: 'Unknown',
        lastHeartbeatTime: node.metadata.creationTimestamp,
        lastTransitionTime: node.metadata.creationTimestamp,
      };
  if (!current) {
    if (!h) {
      const created = Date.parse(node.metadata.creationTimestamp ?? '') || nowMs;
      h = { probeMs: created, heartbeat: undefined, hadReady: false, leaseRenew: undefined };
    }
  } else if (!h?.hadReady || h.heartbeat !== current.lastHeartbeatTime) {
    h = { probeMs: nowMs, heartbeat: current.lastHeartbeatTime, hadReady: true, leaseRenew: h?.leaseRenew };
  }
  // Always count a renewed Lease as a sign of life.
  const lease = registry.find(LEASES, 'kube-node-lease', node.metadata.name as string);
  const renew = (lease?.spec as { renewTime?: string } | undefined)?.renewTime;
  if (renew && (h.leaseRenew === undefined || Date.parse(h.leaseRenew) < Date.parse(renew))) {
    h = { ...h, probeMs: nowMs, leaseRenew: renew };
  }
  return { h, observed };
}

/**
 * The node's conditions once its kubelet is presumed gone: Ready and the pressure conditions
 * Unknown (NodeStatusUnknown), or added as Unknown (NodeStatusNeverUpdated) when never posted.
 */
function conditionsGoneUnknown(node: KubeObject, stamp: string): Condition[] {
  const conditions = conditionsOf(node).map((c) => ({ ...c }));
  for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
    const c = conditions.find((x) => x.type === type);
    if (!c) {
      conditions.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata.creationTimestamp as string,
        lastTransitionTime: stamp,
      });
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = stamp;
    }
  }
  return conditions;
}

/** AddOrUpdateTaintOnNode / RemoveTaintOffNode: one write of spec.taints on the latest node. */
function swapTaints(
  deps: NodeControllerDeps,
  name: string,
  add: Taint[],
  remove: (t: Taint) => boolean,
): void {
  const { registry } = deps;
  const node = registry.find(NODES, undefined, name);
  if (!node) return;
  const current = taintsOf(node);
  const kept = current.filter((t) => !remove(t));
  const stamp = rfc3339(deps.clock.now());
  const added = add
    .filter((a) => !kept.some((t) => t.key === a.key && t.effect === a.effect))
    .map((a) => ({ ...a, timeAdded: stamp }));
  if (added.length === 0 && kept.length === current.length) return;
  const taints = [...kept, ...added];
  const spec = { ...((node.spec as Record<string, unknown>) ?? {}) };
  if (taints.length > 0) spec.taints = taints;
  else delete spec.taints;
  registry.update(NODES, undefined, name, { ...node, spec });
}

/** doNoScheduleTaintingPass for one node. */
function noScheduleTaints(deps: NodeControllerDeps, name: string): void {
  const node = deps.registry.find(NODES, undefined, name);
  if (!node) return;
  const wanted: Taint[] = [];
  for (const c of conditionsOf(node)) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key) wanted.push({ key, effect: 'NoSchedule' });
  }
  if ((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable)
    wanted.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  const managed = (t: Taint) =>
    t.effect === 'NoSchedule' && (t.key === TAINT_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key));
  const have = taintsOf(node).filter(managed);
  const same = have.length === wanted.length && wanted.every((w) => have.some((h) => h.key === w.key));
  if (same) return;
  swapTaints(deps, name, wanted, (t) => managed(t) && !wanted.some((w) => w.key === t.key));
}

/** MarkPodsNotReady: the Ready condition of each pod on the node to False, event NodeNotReady. */
function markPodsNotReady(deps: NodeControllerDeps, nodeName: string, only?: KubeObject): void {
  const { registry, clock } = deps;
  const pods = only
    ? [only]
    : registry
        .list(PODS, undefined)
        .filter((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === nodeName);
  for (const pod of pods) {
    const status = (pod.status ?? {}) as { conditions?: Condition[] };
    const conditions = status.conditions ?? [];
    const ready = conditions.find((c) => c.type === 'Ready');
    if (!ready || ready.status === 'False') continue;
    const next = conditions.map((c) =>
      c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: rfc3339(clock.now()) } : c,
    );
    try {
      const updated = registry.update(
        PODS,
        pod.metadata.namespace,
        pod.metadata.name as string,
        { ...pod, status: { ...status, conditions: next } },
        'status',
      );
      recordEvent(registry, clock.now(), {
        object: updated,
        type: 'Warning',
        reason: 'NodeNotReady',
        message: 'Node is not ready',
        component: COMPONENT,
      });
    } catch {
      // Gone meanwhile (NotFound): nothing left to mark, as upstream.
    }
  }
}

/**
 * The NoExecute not-ready / unreachable taints: upstream's processTaintBaseEviction and its
 * zoneNoExecuteTainter queue (one zone), drained by doNoExecuteTaintingPass every 100 ms.
 */
class NoExecuteTainter {
  /** Nodes waiting for their NoExecute taint. */
  private readonly queue = new Set<string>();
  private timer: ControllerTimer | undefined;
  private stopped = false;
  private readonly startedMs: number;

  constructor(private readonly deps: NodeControllerDeps) {
    this.startedMs = deps.clock.now().getTime();
  }

  /**
   * processTaintBaseEviction, on the Ready status seen at the start of this pass (upstream passes
   * observedReadyCondition, not the one it just wrote): a node that just went Unknown was observed
   * True, so it is queued for its NoExecute taint on the next pass and tainted by the next
   * doNoExecuteTaintingPass, nodeMonitorPeriod + up to 100 ms after Ready=Unknown, as upstream.
   * Swapping one NoExecute taint for the other, and removing both on True, is immediate.
   */
  processTaintBaseEviction(name: string, observedStatus: string): void {
    const node = this.deps.registry.find(NODES, undefined, name);
    if (!node) return;
    const taints = taintsOf(node);
    if (observedStatus === 'False' || observedStatus === 'Unknown') {
      const [want, opposite] =
        observedStatus === 'False'
          ? [TAINT_NOT_READY, TAINT_UNREACHABLE]
          : [TAINT_UNREACHABLE, TAINT_NOT_READY];
      if (taints.some((t) => isNoExecute(t, opposite))) {
        swapTaints(this.deps, name, [{ key: want, effect: 'NoExecute' }], (t) => isNoExecute(t, opposite));
      } else if (!taints.some((t) => isNoExecute(t, want))) {
        this.markNodeForTainting(name);
      }
    } else if (observedStatus === 'True') {
      // markNodeAsReachable: both taints off and the node out of the tainting queue.
      this.queue.delete(name);
      swapTaints(
        this.deps,
        name,
        [],
        (t) => isNoExecute(t, TAINT_NOT_READY) || isNoExecute(t, TAINT_UNREACHABLE),
      );
    }
  }

  /** Cancels the pending pass; nothing is tainted afterwards. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private markNodeForTainting(name: string): void {
    this.queue.add(name);
    if (this.timer || this.stopped) return;
    // wait.Until(doNoExecuteTaintingPass, 100ms) ticks on a fixed grid from the start; armed only
    // while something is queued so an idle ManualClock does not fire ten timers a second.
    const elapsed = this.deps.clock.now().getTime() - this.startedMs;
    const next = (Math.floor(elapsed / NODE_EVICTION_PERIOD_MS) + 1) * NODE_EVICTION_PERIOD_MS;
    this.timer = this.deps.clock.setTimer(next - elapsed, () => this.doNoExecuteTaintingPass());
  }

  /** doNoExecuteTaintingPass: each queued node gets the taint its *current* Ready status implies. */
  private doNoExecuteTaintingPass(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const retry: string[] = [];
    for (const name of [...this.queue]) {
      this.queue.delete(name);
      const node = this.deps.registry.find(NODES, undefined, name);
      if (!node) continue;
      const ready = readyOf(node);
      if (!ready) {
        retry.push(name); // upstream retries in 50 ms; the next 100 ms pass is close enough here
        continue;
      }
      if (ready.status !== 'False' && ready.status !== 'Unknown') continue; // Ready again: no taint
      const [want, opposite] =
        ready.status === 'False'
          ? [TAINT_NOT_READY, TAINT_UNREACHABLE]
          : [TAINT_UNREACHABLE, TAINT_NOT_READY];
      try {
        swapTaints(this.deps, name, [{ key: want, effect: 'NoExecute' }], (t) => isNoExecute(t, opposite));
      } catch {
        retry.push(name); // a racing write (409): try again on the next pass
      }
    }
    for (const name of retry) this.markNodeForTainting(name);
  }
}

function isNoExecute(t: Taint, key: string): boolean {
  return t.key === key && t.effect === 'NoExecute';
}
