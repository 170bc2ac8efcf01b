import type { Pod } from '../api/pod-types';

/**
 * Upstream podsDifferSemantically (pkg/kubelet/config): whether a source's new version of a pod
 * changes what the kubelet runs — spec, labels, annotations, deletion timestamp or grace period.
 * Anything else (status, resourceVersion, managedFields) is a reconcile, not an update.
 */
export function podsDifferSemantically(existing: Pod, next: Pod): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const map = (m: Record<string, string> | undefined) =>
    m && Object.keys(m).length > 0 ? Object.fromEntries(Object.entries(m).sort()) : undefined;
  return !(
    same(existing.spec, next.spec) &&
    same(map(existing.metadata.labels), map(next.metadata.labels)) &&
    same(map(existing.metadata.annotations), map(next.metadata.annotations)) &&
    same(existing.metadata.deletionTimestamp, next.metadata.deletionTimestamp) &&
    same(existing.metadata.deletionGracePeriodSeconds, next.metadata.deletionGracePeriodSeconds)
  );
}

/**
 * Upstream HandlePodReconcile syncs a reconciled pod whose readiness may have to change
 * (NeedToReconcilePodReadiness): a pod with readiness gates whose conditions someone else changed.
 */
export function needsReadinessReconcile(existing: Pod, next: Pod): boolean {
  if ((next.spec?.readinessGates ?? []).length === 0) return false;
  return JSON.stringify(existing.status?.conditions ?? []) !== JSON.stringify(next.status?.conditions ?? []);
}
