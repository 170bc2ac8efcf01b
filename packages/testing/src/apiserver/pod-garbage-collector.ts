import type { ControllerClock } from './controller-clock';
import { ControllerQueue, type RunningController } from './controller-queue';
import {
  DEPENDENT_TYPES as DEPENDENTS,
  dependentsOf as dependentsOfUid,
  FOREGROUND_FINALIZER,
} from './deletion-propagation';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceTypeByKind, RESOURCE_TYPES, type ResourceType, resourceKey } from './resource-types';

/** The running pod garbage collector. */
export type PodGarbageCollector = RunningController;

/**
 * The garbage collector, for pods and ReplicaSets as dependents. Background propagation: when an
 * object is deleted, those whose ownerReferences name it (by uid) and no other owner that still
 * exists are deleted (the ReplicaSets of a deleted Deployment, then their pods). Foreground: an
 * owner being deleted with the `foregroundDeletion` finalizer (deletion-propagation.ts) has its
 * dependents deleted; once none is left (pods gone, not just Terminating) the finalizer is
 * removed and the owner goes. Orphan is handled at delete time (deletion-propagation.ts).
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

  /** An owner in foreground deletion: delete its dependents, then let it go. */
  function foreground(key: string): void {
    const [resource, ns, name] = key.split('|') as [string, string, string];
    const rt = RESOURCE_TYPES.find((r) => resourceKey(r) === resource);
    if (!rt) return;
    const owner = registry.find(rt, ns || undefined, name);
    if (
      !owner?.metadata.deletionTimestamp ||
      !(owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER)
    )
      return;
    const dependents = dependentsOfUid(registry, owner.metadata.uid as string);
    for (const { rt: drt, object } of dependents)
      if (!object.metadata.deletionTimestamp)
        registry.delete(drt, object.metadata.namespace, object.metadata.name as string);
    if (dependents.length > 0) return; // back here when the last one is gone
    registry.update(rt, ns || undefined, name, {
      ...owner,
      metadata: {
        ...owner.metadata,
        finalizers: (owner.metadata.finalizers ?? []).filter((f) => f !== FOREGROUND_FINALIZER),
      },
    });
  }
  const foregroundQueue = new ControllerQueue(foreground);
  const ownerKey = (resource: string, o: KubeObject) =>
    `${resource}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;

  const unsubscribe = registry.store.subscribe((e) => {
    const meta = e.object.metadata;
    if (e.type !== 'DELETED') {
      if (meta.deletionTimestamp && (meta.finalizers ?? []).includes(FOREGROUND_FINALIZER))
        foregroundQueue.add(ownerKey(e.resource, e.object));
      return;
    }
    if (meta.uid) for (const key of dependentsOf(meta.uid)) queue.add(key);
    // A dependent gone: its owners in foreground deletion may now go too.
    for (const ref of meta.ownerReferences ?? []) {
      const rt = findResourceTypeByKind(ref.apiVersion, ref.kind);
      const owner = rt && registry.find(rt, meta.namespace, ref.name);
      if (rt && owner?.metadata.deletionTimestamp) foregroundQueue.add(ownerKey(resourceKey(rt), owner));
    }
  });
  // Dependents orphaned before the collector started (their owner already gone).
  for (const key of dependentsOf(undefined)) queue.add(key);

  return {
    settled: async () => {
      await queue.settled();
      await foregroundQueue.settled();
    },
    idle: () => queue.idle() && foregroundQueue.idle(),
    stop() {
      queue.stop();
      foregroundQueue.stop();
      unsubscribe();
    },
  };
}
