import type { ControllerClock, ControllerTimer } from './controller-clock';
import { recordEvent } from './controller-events';
import { ControllerQueue, type RunningController } from './controller-queue';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';
import { minTolerationSeconds, taintsOf, tolerationsOf } from './taints';

const NODES = findResourceType('', 'v1', 'nodes') as ResourceType;
const PODS = findResourceType('', 'v1', 'pods') as ResourceType;
const COMPONENT = 'taint-eviction-controller';

export interface TaintEvictionController extends RunningController {
  /** `namespace/name` of pods with an eviction scheduled, and when (ms on the controller's clock). */
  scheduled(): Map<string, number>;
}

interface Work {
  createdMs: number;
  fireMs: number;
  timer: ControllerTimer;
}

function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * kube-controller-manager's taint-eviction-controller (pkg/controller/tainteviction): a pod on a
 * node with NoExecute taints it does not tolerate is deleted at once; one that tolerates them
 * all, with the least tolerationSeconds of the tolerations used, that many seconds after the
 * controller saw the taints (work already scheduled keeps its time); taints gone (or tolerated
 * forever) cancel it. Eviction records `TaintManagerEviction` "Marking for deletion Pod ns/name",
 * adds the DisruptionTarget condition (`DeletionByTaintManager`) and deletes the pod with its
 * own grace period, like `kubectl delete`: a pod on an unreachable node then stays Terminating,
 * as upstream, since no kubelet confirms it.
 */
export function startTaintEvictionController(
  registry: ResourceRegistry,
  clock: ControllerClock,
): TaintEvictionController {
  const work = new Map<string, Work>();
  let stopped = false;

  function emit(pod: KubeObject, message: string): void {
    recordEvent(registry, clock.now(), {
      object: pod,
      type: 'Normal',
      reason: 'TaintManagerEviction',
      message,
      component: COMPONENT,
    });
  }

  function cancel(key: string, pod: KubeObject | undefined): void {
    const w = work.get(key);
    if (!w) return;
    w.timer.cancel();
    work.delete(key);
    if (pod) emit(pod, `Cancelling deletion of Pod ${key}`);
  }

  function evict(key: string): void {
    work.delete(key);
    if (stopped) return;
    const [ns, name] = key.split('/') as [string, string];
    const pod = registry.find(PODS, ns, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    emit(pod, `Marking for deletion Pod ${key}`);
    const status = (pod.status ?? {}) as { conditions?: Record<string, unknown>[] };
    const conditions = status.conditions ?? [];
    if (!conditions.some((c) => c.type === 'DisruptionTarget' && c.status === 'True')) {
      const condition = {
        type: 'DisruptionTarget',
        status: 'True',
        lastTransitionTime: rfc3339(clock.now()),
        reason: 'DeletionByTaintManager',
        message: 'Taint manager: deleting due to NoExecute taint',
      };
      try {
        registry.update(
          PODS,
          ns,
          name,
          {
            ...pod,
            status: {
              ...status,
              conditions: [...conditions.filter((c) => c.type !== 'DisruptionTarget'), condition],
            },
          },
          'status',
        );
      } catch {
        // The condition is informative; the deletion below is what matters.
      }
    }
    try {
      registry.delete(PODS, ns, name);
    } catch {
      // Already gone.
    }
  }

  /** processPodOnNode. */
  function processPod(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const pod = registry.find(PODS, ns, name);
    const nodeName = (pod?.spec as { nodeName?: string } | undefined)?.nodeName;
    if (!pod || !nodeName || pod.metadata.deletionTimestamp) {
      cancel(key, undefined);
      return;
    }
    const taints = taintsOf(registry.find(NODES, undefined, nodeName)).filter(
      (t) => t.effect === 'NoExecute',
    );
    if (taints.length === 0) {
      cancel(key, pod);
      return;
    }
    const { allTolerated, seconds } = minTolerationSeconds(taints, tolerationsOf(pod));
    if (!allTolerated) {
      cancel(key, pod);
      evict(key);
      return;
    }
    if (seconds === undefined) {
      cancel(key, pod);
      return;
    }
    if (work.has(key)) return;
    const nowMs = clock.now().getTime();
    work.set(key, {
      createdMs: nowMs,
      fireMs: nowMs + seconds * 1000,
      timer: clock.setTimer(seconds * 1000, () => evict(key)),
    });
  }
  const queue = new ControllerQueue(processPod);

  function podsOn(nodeName: string): string[] {
    return registry
      .list(PODS, undefined)
      .filter((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === nodeName)
      .map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  }

  const noExecute = (o: KubeObject | undefined) =>
    JSON.stringify(
      taintsOf(o)
        .filter((t) => t.effect === 'NoExecute')
        .map((t) => [t.key, t.value ?? '']),
    );

  const unsubscribe = registry.store.subscribe((e) => {
    if (e.resource === '/pods') {
      const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
      if (e.type === 'DELETED') cancel(key, undefined);
      else queue.add(key);
    } else if (e.resource === '/nodes') {
      // Only a change of the NoExecute taints matters (not every status heartbeat).
      if (e.type === 'MODIFIED' && noExecute(e.object) === noExecute(e.oldObject)) return;
      for (const key of podsOn(e.object.metadata.name as string)) queue.add(key);
    }
  });
  for (const n of registry.list(NODES, undefined))
    for (const k of podsOn(n.metadata.name as string)) queue.add(k);

  return {
    scheduled: () => new Map([...work].map(([k, w]) => [k, w.fireMs])),
    settled: () => queue.settled(),
    idle: () => queue.idle(),
    stop() {
      stopped = true;
      queue.stop();
      unsubscribe();
      for (const w of work.values()) w.timer.cancel();
      work.clear();
    },
  };
}
