import type { ControllerClock } from './controller-clock';
import { ControllerQueue, type RunningController } from './controller-queue';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceTypeByKind, type ResourceType, resourceKey } from './resource-types';

export type PodGarbageCollector = RunningController;

/** The dependents collected: pods (of ReplicaSets) and ReplicaSets (of Deployments). */
const DEPENDENTS = [
  findResourceTypeByKind('v1', 'Pod') as ResourceType,
  findResourceTypeByKind('apps/v1', 'ReplicaSet') as ResourceType,
];

/**
 * The garbage collector's background propagation, for pods and ReplicaSets: when an object is
 * deleted, those whose ownerReferences name it (by uid) and no other owner that still exists
 * are deleted (the ReplicaSets of a deleted Deployment, then their pods). Foreground deletion
 * (the foregroundDeletion finalizer) and orphaning are not done: owners go at once and their
 * dependents follow.
 */
export function startPodGarbageCollector(
  registry: ResourceRegistry,
  _clock: ControllerClock,
): PodGarbageCollector {
  function ownerExists(
    ns: string | undefined,
    ref: { apiVersion: string; kind: string; name: string; uid: string },
  ) {
    const rt: ResourceType | undefined = findResourceTypeByKind(ref.apiVersion, ref.kind);
    // A kind this server does not serve cannot be looked up: upstream's collector leaves such
    // dependents alone too (it cannot resolve the owner), so count it as existing.
    if (!rt) return true;
    const o = registry.store.get(resourceKey(rt), rt.namespaced ? ns : undefined, ref.name);
    return o?.metadata.uid === ref.uid;
  }

  function collect(key: string): void {
    const [kind, ns, name] = key.split('/') as [string, string, string];
    const rt = DEPENDENTS.find((d) => d.kind === kind) as ResourceType;
    const o = registry.find(rt, ns, name);
    if (!o || o.metadata.deletionTimestamp) return;
    const refs = o.metadata.ownerReferences ?? [];
    if (refs.length === 0 || refs.some((r) => ownerExists(ns, r))) return;
    registry.delete(rt, ns, name);
  }
  const queue = new ControllerQueue(collect);

  const dependentsOf = (uid: string | undefined) => {
    const out: string[] = [];
    for (const rt of DEPENDENTS)
      for (const o of registry.store.list(resourceKey(rt)) as KubeObject[])
        if ((o.metadata.ownerReferences ?? []).some((r) => (uid ? r.uid === uid : true)))
          out.push(`${rt.kind}/${o.metadata.namespace}/${o.metadata.name}`);
    return out;
  };
  const unsubscribe = registry.store.subscribe((e) => {
    if (e.type !== 'DELETED') return;
    const uid = e.object.metadata.uid;
    if (!uid) return;
    for (const key of dependentsOf(uid)) queue.add(key);
  });
  // Dependents orphaned before the collector started (their owner already gone).
  for (const key of dependentsOf(undefined)) queue.add(key);

  return {
    settled: () => queue.settled(),
    idle: () => queue.idle(),
    stop() {
      queue.stop();
      unsubscribe();
    },
  };
}
