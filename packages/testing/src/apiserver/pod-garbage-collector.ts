import type { ControllerClock } from './controller-clock';
import { ControllerQueue, type RunningController } from './controller-queue';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceTypeByKind, type ResourceType, resourceKey } from './resource-types';

export type PodGarbageCollector = RunningController;

const PODS_KEY = '/pods';
const PODS = findResourceTypeByKind('v1', 'Pod') as ResourceType;

/**
 * The garbage collector's background propagation, for pods: when an object is deleted, pods
 * whose ownerReferences name it (by uid) and no other owner that still exists are deleted
 * (e.g. the pods of a deleted ReplicaSet). Foreground deletion (the foregroundDeletion
 * finalizer) and orphaning are not done: owners go at once and their pods follow.
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
    const [ns, name] = key.split('/') as [string, string];
    const pod = registry.find(PODS, ns, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const refs = pod.metadata.ownerReferences ?? [];
    if (refs.length === 0 || refs.some((r) => ownerExists(ns, r))) return;
    registry.delete(PODS, ns, name);
  }
  const queue = new ControllerQueue(collect);

  const unsubscribe = registry.store.subscribe((e) => {
    if (e.type !== 'DELETED' || e.resource === PODS_KEY) return;
    const uid = e.object.metadata.uid;
    if (!uid) return;
    for (const p of registry.store.list(PODS_KEY)) {
      if ((p.metadata.ownerReferences ?? []).some((r) => r.uid === uid))
        queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
    }
  });
  // Pods orphaned before the collector started (their owner already gone).
  for (const p of registry.store.list(PODS_KEY) as KubeObject[])
    if ((p.metadata.ownerReferences ?? []).length > 0)
      queue.add(`${p.metadata.namespace}/${p.metadata.name}`);

  return {
    settled: () => queue.settled(),
    idle: () => queue.idle(),
    stop() {
      queue.stop();
      unsubscribe();
    },
  };
}
