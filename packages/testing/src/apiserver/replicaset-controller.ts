import type { ControllerClock, ControllerTimer } from './controller-clock';
import { recordEvent } from './controller-events';
import { ControllerQueue, type RunningController } from './controller-queue';
import type { KubeObject } from './kube-object';
import { matchesStructuredSelector } from './label-selector';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';

/** kube-controller-manager's replicaset controller. */
export interface ReplicaSetControllerOptions {
  /** Most pods created or deleted in one sync (upstream's BurstReplicas constant). Default 500. */
  burstReplicas?: number;
}

const PODS = findResourceType('', 'v1', 'pods') as ResourceType;
export const REPLICASETS = findResourceType('apps', 'v1', 'replicasets') as ResourceType;
const COMPONENT = 'replicaset-controller';

/** The running ReplicaSet controller. */
export type ReplicaSetController = RunningController;

type Obj = Record<string, unknown>;
type Selector = Parameters<typeof matchesStructuredSelector>[0];

const phaseOf = (p: KubeObject) => (p.status as { phase?: string } | undefined)?.phase;
/** controller.IsPodActive: not terminating, not Succeeded/Failed. */
const isActive = (p: KubeObject) =>
  !p.metadata.deletionTimestamp && phaseOf(p) !== 'Succeeded' && phaseOf(p) !== 'Failed';
const isReady = (p: KubeObject) =>
  ((p.status as { conditions?: Obj[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

function readySince(p: KubeObject): number | undefined {
  const c = ((p.status as { conditions?: Obj[] } | undefined)?.conditions ?? []).find(
    (x) => x.type === 'Ready' && x.status === 'True',
  );
  return c ? Date.parse(String(c.lastTransitionTime ?? '')) : undefined;
}

function controllerRef(p: KubeObject) {
  return (p.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}

/**
 * Which pod goes first when scaling down (upstream ActivePods ordering, simplified): unassigned
 * before assigned, Pending before Running, not ready before ready, newer before older.
 */
function deletionRank(a: KubeObject, b: KubeObject): number {
  const assigned = (p: KubeObject) => ((p.spec as { nodeName?: string } | undefined)?.nodeName ? 1 : 0);
  const phase = (p: KubeObject) => ({ Pending: 0, Unknown: 1, Running: 2 })[phaseOf(p) ?? 'Pending'] ?? 0;
  return (
    assigned(a) - assigned(b) ||
    phase(a) - phase(b) ||
    Number(isReady(a)) - Number(isReady(b)) ||
    String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? ''))
  );
}

/** The controller ownerReference the ReplicaSet puts on its pods. */
interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

/**
 * The pods of `ns` the ReplicaSet controls and its selector matches, adopting matching orphans
 * on the way (upstream's ClaimPods), unless they are being deleted.
 */
function claimPods(
  registry: ResourceRegistry,
  ns: string,
  selector: Selector,
  ownerRef: OwnerRef,
): KubeObject[] {
  const owned: KubeObject[] = [];
  for (const p of registry.list(PODS, ns)) {
    const ref = controllerRef(p);
    const matches = matchesStructuredSelector(selector, p.metadata.labels);
    if (ref?.uid === ownerRef.uid) {
      if (matches) owned.push(p);
      continue;
    }
    if (!ref && matches && !p.metadata.deletionTimestamp) {
      owned.push(
        registry.update(PODS, ns, p.metadata.name as string, {
          ...p,
          metadata: { ...p.metadata, ownerReferences: [...(p.metadata.ownerReferences ?? []), ownerRef] },
        }),
      );
    }
  }
  return owned;
}

/**
 * kube-controller-manager's replicaset controller: keeps spec.replicas active pods (not
 * terminating, not finished) that match spec.selector and are controlled by the ReplicaSet,
 * creating them from spec.template with generateName `<rs>-` and a controller ownerReference
 * (events `SuccessfulCreate` "Created pod: <name>", `FailedCreate` on errors) and deleting the
 * surplus (`SuccessfulDelete` "Deleted pod: <name>"); adopts matching orphans; writes
 * status.replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready for
 * spec.minReadySeconds) and observedGeneration. A terminating pod does not count, so a pod
 * stuck Terminating on an unreachable node is replaced.
 */
export function startReplicaSetController(
  registry: ResourceRegistry,
  clock: ControllerClock,
  options: ReplicaSetControllerOptions = {},
): ReplicaSetController {
  const burst = options.burstReplicas ?? 500;
  if (!Number.isInteger(burst) || burst < 1)
    throw new RangeError(`replicaSet.burstReplicas: must be a positive integer, got ${String(burst)}`);

  const timers = new Map<string, ControllerTimer>();

  function event(rs: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    recordEvent(registry, clock.now(), { object: rs, type, reason, message, component: COMPONENT });
  }

  function sync(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const rs = registry.find(REPLICASETS, ns, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const spec = (rs.spec ?? {}) as Obj;
    const selector = (spec.selector ?? {}) as Selector;
    const wanted = Number(spec.replicas ?? 1);
    const uid = rs.metadata.uid as string;
    const ownerRef: OwnerRef = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name,
      uid,
      controller: true,
      blockOwnerDeletion: true,
    };
    const active = claimPods(registry, ns, selector, ownerRef).filter(isActive);
    const diff = active.length - wanted;
    if (diff < 0) {
      // A deep copy: creating the pod defaults its spec in place, and the stored template must not change.
      const template = structuredClone(spec.template ?? {}) as { metadata?: Obj; spec?: Obj };
      for (let i = 0; i < Math.min(-diff, burst); i++) {
        try {
          const created = registry.create(PODS, ns, {
            metadata: {
              ...(template.metadata ?? {}),
              name: undefined,
              generateName: `${name}-`,
              ownerReferences: [ownerRef],
            },
            spec: template.spec ?? {},
          });
          active.push(created);
          event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
        } catch (err) {
          event(rs, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
          break;
        }
      }
    } else if (diff > 0) {
      const victims = [...active].sort(deletionRank).slice(0, Math.min(diff, burst));
      for (const p of victims) {
        registry.delete(PODS, ns, p.metadata.name as string);
        active.splice(active.indexOf(p), 1);
        event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      }
    }
    const minReadyMs = Number(spec.minReadySeconds ?? 0) * 1000;
    const nowMs = clock.now().getTime();
    const templateLabels = ((spec.template as { metadata?: { labels?: Record<string, string> } } | undefined)
      ?.metadata?.labels ?? {}) as Record<string, string>;
    // A ready pod becomes available minReadySeconds after it turned ready: look again then.
    const nextAvailable = active
      .filter(isReady)
      .map((p) => (readySince(p) ?? nowMs) + minReadyMs)
      .filter((t) => t > nowMs)
      .sort((a, b) => a - b)[0];
    if (nextAvailable !== undefined && !timers.has(key)) {
      timers.set(
        key,
        clock.setTimer(nextAvailable - nowMs, () => {
          timers.delete(key);
          queue.add(key);
        }),
      );
    }
    const current = registry.find(REPLICASETS, ns, name);
    if (!current) return;
    const oldStatus = (current.status ?? {}) as Obj;
    const status: Obj = {
      ...oldStatus,
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) =>
        Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
      ).length,
      readyReplicas: active.filter(isReady).length,
      availableReplicas: active.filter((p) => isReady(p) && (readySince(p) ?? nowMs) + minReadyMs <= nowMs)
        .length,
      observedGeneration: current.metadata.generation,
    };
    if (JSON.stringify(status) !== JSON.stringify(oldStatus))
      registry.update(REPLICASETS, ns, name, { ...current, status }, 'status');
  }
  const queue = new ControllerQueue(sync);

  const unsubscribe = registry.store.subscribe((e) => {
    if (e.resource === 'apps/replicasets') {
      if (e.type !== 'DELETED') queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
      return;
    }
    if (e.resource !== '/pods') return;
    const ns = e.object.metadata.namespace as string;
    for (const pod of [e.object, e.oldObject]) {
      if (!pod) continue;
      const ref = controllerRef(pod);
      if (ref?.kind === 'ReplicaSet') {
        queue.add(`${ns}/${ref.name}`);
        continue;
      }
      // An orphan: every ReplicaSet whose selector it matches may adopt it.
      for (const rs of registry.list(REPLICASETS, ns)) {
        const sel = ((rs.spec as Obj | undefined)?.selector ?? {}) as Selector;
        if (matchesStructuredSelector(sel, pod.metadata.labels)) queue.add(`${ns}/${rs.metadata.name}`);
      }
    }
  });
  for (const rs of registry.list(REPLICASETS, undefined))
    queue.add(`${rs.metadata.namespace}/${rs.metadata.name}`);

  return {
    settled: () => queue.settled(),
    idle: () => queue.idle(),
    stop() {
      queue.stop();
      unsubscribe();
      for (const t of timers.values()) t.cancel();
      timers.clear();
    },
  };
}
