import type { KubeObject } from './kube-object';

type Obj = Record<string, unknown>;

interface Condition {
  type?: string;
  observedGeneration?: number;
  [other: string]: unknown;
}

/**
 * A write to `pods/<name>/status` as kube-apiserver's pod status strategy takes it: only status
 * changes; a status without `qosClass` keeps the stored one (it is fixed at creation); and an
 * `observedGeneration` left out (or 0), on the status or on a condition, keeps the stored value
 * (upstream preserveOldObservedGeneration: conditions are matched by type, in order, since
 * validation allows repeated types). Writers that never heard of pod generation (older kubelets)
 * so cannot wipe what newer ones set.
 */
export function podStatusUpdate(old: KubeObject, incoming: KubeObject): KubeObject {
  const oldStatus = (old.status ?? {}) as Obj;
  const status: Obj = { ...((incoming.status ?? {}) as Obj) };
  if (!status.qosClass && oldStatus.qosClass) status.qosClass = oldStatus.qosClass;
  if (!status.observedGeneration && oldStatus.observedGeneration)
    status.observedGeneration = oldStatus.observedGeneration;
  if (Array.isArray(status.conditions)) {
    const remembered = new Map<string | undefined, number[]>();
    for (const c of (Array.isArray(oldStatus.conditions) ? oldStatus.conditions : []) as Condition[]) {
      const list = remembered.get(c?.type) ?? [];
      list.push(c?.observedGeneration ?? 0);
      remembered.set(c?.type, list);
    }
    status.conditions = (status.conditions as Condition[]).map((c) => {
      const previous = remembered.get(c?.type)?.shift() ?? 0;
      if (c && typeof c === 'object' && !c.observedGeneration && previous)
        return { ...c, observedGeneration: previous };
      return c;
    });
  }
  return { ...old, status };
}
