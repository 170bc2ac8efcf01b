import {
  type ContainerStatus,
  isSidecar,
  type Pod,
  type PodCondition,
  type PodStatus,
} from '../api/pod-types';
import { rfc3339 } from '../rfc3339';

/** Is this API containerID (`containerd://<id>`) the runtime container `id`? */
function isContainer(status: ContainerStatus, id: string): boolean {
  const apiId = status.containerID ?? '';
  return apiId === id || apiId.endsWith(`://${id}`);
}

/**
 * Upstream statusManager.SetContainerReadiness: the pod's last status with one container's
 * `ready` changed and the Ready and ContainersReady conditions worked out again (the same rules
 * and messages as generatePodStatus), so a readiness probe result reaches the API without a pod
 * sync. Undefined when the container is not in the status or its readiness is already that.
 */
export function withContainerReadiness(
  pod: Pod,
  status: PodStatus,
  containerId: string,
  ready: boolean,
  now: number,
): PodStatus | undefined {
  const next = updateContainer(status, containerId, (s) => (s.ready === ready ? undefined : { ...s, ready }));
  if (!next) return undefined;
  if (next.phase === 'Succeeded' || next.phase === 'Failed') return next;
  const initContainers = pod.spec.initContainers ?? [];
  const unready = [
    ...(next.initContainerStatuses ?? [])
      .filter((s) => {
        const spec = initContainers.find((c) => c.name === s.name);
        return spec !== undefined && isSidecar(spec) && !s.ready;
      })
      .map((s) => s.name),
    ...(next.containerStatuses ?? []).filter((s) => !s.ready).map((s) => s.name),
  ];
  const previous = status.conditions ?? [];
  const set = (condition: PodCondition) => {
    const old = previous.find((c) => c.type === condition.type);
    const lastTransitionTime =
      old?.status === condition.status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now);
    const full: PodCondition = {
      type: condition.type,
      status: condition.status,
      lastProbeTime: null,
      lastTransitionTime,
    };
    if (condition.reason) full.reason = condition.reason;
    if (condition.message) full.message = condition.message;
    const conditions = next.conditions ?? [];
    const at = conditions.findIndex((c) => c.type === condition.type);
    next.conditions = at < 0 ? [...conditions, full] : conditions.map((c, i) => (i === at ? full : c));
  };
  if (unready.length > 0) {
    const message = `containers with unready status: [${unready.join(' ')}]`;
    set({ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message });
    set({ type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message });
    return next;
  }
  const unmetGate = (pod.spec.readinessGates ?? [])
    .map((gate) => gate.conditionType)
    .find((type) => previous.find((c) => c.type === type)?.status !== 'True');
  set(
    unmetGate === undefined
      ? { type: 'Ready', status: 'True' }
      : {
          type: 'Ready',
          status: 'False',
          reason: 'ReadinessGatesNotReady',
          message: `corresponding condition of pod readiness gate "${unmetGate}" does not exist.`,
        },
  );
  set({ type: 'ContainersReady', status: 'True' });
  return next;
}

/**
 * The status with every running container's `ready` as `readyNow` says at this moment (undefined:
 * left as it is; each change
 * through withContainerReadiness): a probe result that came in after the status was generated,
 * while its sync still awaited something, goes out with it instead of a stale `ready: false`.
 */
export function withReadinessAsNow(
  pod: Pod,
  status: PodStatus,
  readyNow: (containerId: string, containerName: string) => boolean | undefined,
  now: number,
): PodStatus {
  // Regular init containers are never ready while they run; sidecars are, like main containers.
  const sidecars = new Set((pod.spec.initContainers ?? []).filter(isSidecar).map((c) => c.name));
  let result = status;
  for (const container of [
    ...(status.initContainerStatuses ?? []).filter((c) => sidecars.has(c.name)),
    ...(status.containerStatuses ?? []),
  ]) {
    const apiId = container.containerID ?? '';
    if (!container.state.running || !apiId) continue;
    const scheme = apiId.indexOf('://');
    const id = scheme < 0 ? apiId : apiId.slice(scheme + 3);
    const ready = readyNow(id, container.name);
    if (ready !== undefined) result = withContainerReadiness(pod, result, id, ready, now) ?? result;
  }
  return result;
}

/**
 * Upstream statusManager.SetContainerStartup: the pod's last status with one container's
 * `started` changed; undefined when nothing changes.
 */
export function withContainerStarted(
  status: PodStatus,
  containerId: string,
  started: boolean,
): PodStatus | undefined {
  return updateContainer(status, containerId, (s) => (s.started === started ? undefined : { ...s, started }));
}

/** A copy of `status` with the container's status replaced, or undefined if `change` declines. */
function updateContainer(
  status: PodStatus,
  containerId: string,
  change: (s: ContainerStatus) => ContainerStatus | undefined,
): PodStatus | undefined {
  for (const field of ['containerStatuses', 'initContainerStatuses'] as const) {
    const list = status[field];
    const at = list?.findIndex((s) => isContainer(s, containerId)) ?? -1;
    if (!list || at < 0) continue;
    // Only a running container's readiness comes from its probe.
    if (!list[at]!.state.running) return undefined;
    const changed = change(list[at]!);
    if (!changed) return undefined;
    return { ...status, [field]: list.map((s, i) => (i === at ? changed : s)) };
  }
  return undefined;
}
