import type { Container } from '../api/pod-types';
import { type ContainerResourceValues, minMilliCpuLimit, minSharesMilli } from '../api/resize-quantities';

export type ResizeResource = 'cpu' | 'memory';

/** One running container to update in place for one resource. */
export interface ContainerResizeUpdate {
  name: string;
  containerId: string;
  /** What the container should get (its allocated resources). */
  desired: ContainerResourceValues;
  /** What it has now; updated as each resource is applied, so the next call carries both. */
  current: ContainerResourceValues;
}

/** What a running container needs for its allocated resources (upstream computePodResizeAction). */
export type ContainerResizeAction =
  | { kind: 'keep' }
  | { kind: 'restart'; message: string }
  | { kind: 'update'; resources: { resource: ResizeResource; increase: boolean }[] };

/**
 * Compares a running container's allocated resources with those last applied to it. Memory
 * requests are never written to a cgroup, so they are taken as applied; CPU requests at or below
 * the minimum shares and limits at or below the minimum quota count as equal. A change in a
 * resource whose resizePolicy is RestartContainer restarts the container; otherwise memory is
 * updated when its limit changed, CPU when its limit (or else its request) changed, each noting
 * whether it grows (the pod's updates run shrinking containers first).
 */
export function computeContainerResizeAction(
  container: Container,
  allocated: ContainerResourceValues,
  applied: ContainerResourceValues,
): ContainerResizeAction {
  const desired = { ...allocated };
  const current = { ...applied, memoryRequestBytes: desired.memoryRequestBytes };
  if (desired.cpuRequestMilli <= minSharesMilli && current.cpuRequestMilli <= minSharesMilli)
    desired.cpuRequestMilli = current.cpuRequestMilli;
  if (desired.cpuLimitMilli <= minMilliCpuLimit && current.cpuLimitMilli <= minMilliCpuLimit)
    desired.cpuLimitMilli = current.cpuLimitMilli;
  const memoryLimit = desired.memoryLimitBytes !== current.memoryLimitBytes;
  const cpuLimit = desired.cpuLimitMilli !== current.cpuLimitMilli;
  const cpuRequest = desired.cpuRequestMilli !== current.cpuRequestMilli;
  if (!memoryLimit && !cpuLimit && !cpuRequest) return { kind: 'keep' };
  const restartFor = (resource: ResizeResource) =>
    (container.resizePolicy ?? []).find((p) => p.resourceName === resource)?.restartPolicy ===
    'RestartContainer';
  if ((memoryLimit && restartFor('memory')) || ((cpuLimit || cpuRequest) && restartFor('cpu')))
    return { kind: 'restart', message: `Container ${container.name} resize requires restart` };
  const resources: { resource: ResizeResource; increase: boolean }[] = [];
  if (memoryLimit)
    resources.push({ resource: 'memory', increase: desired.memoryLimitBytes > current.memoryLimitBytes });
  if (cpuLimit) resources.push({ resource: 'cpu', increase: desired.cpuLimitMilli > current.cpuLimitMilli });
  else if (cpuRequest)
    resources.push({ resource: 'cpu', increase: desired.cpuRequestMilli > current.cpuRequestMilli });
  return { kind: 'update', resources };
}

/**
 * Orders one resource's container updates as upstream does: containers that shrink first (so the
 * room they give up is there for those that grow), growing ones after, each group in spec order.
 */
export function orderUpdates<T extends { increase: boolean }>(updates: readonly T[]): T[] {
  return [...updates.filter((u) => !u.increase), ...updates.filter((u) => u.increase)];
}
