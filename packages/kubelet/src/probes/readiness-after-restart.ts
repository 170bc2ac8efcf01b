import { KUBELET_RESTART_GRACE_MS, type ProbeResult } from '@nodeagent/probes';
import type { ContainerStatus, Pod } from '../api/pod-types';
import type { PodRuntimeStatus } from '../cri/runtime-state';

/**
 * What the kubelet knew of a running container instance before it (re)started: enough for
 * upstream's KEP-4781 rule (v1.35+, `ChangeContainerStatusOnKubeletRestart` off by default) that
 * keeps a Ready pod Ready across a kubelet restart instead of NotReady until the first probe.
 */
export interface LastKnownContainer {
  /** When this instance started, ms on the kubelet clock. */
  startedAtMs: number;
  /** The pod's last status for this very instance (same containerID), if it had one. */
  apiStatus?: ContainerStatus;
  /** The pod's Ready condition was True in its last status. */
  podWasReady: boolean;
}

/** The running instance `containerId` of the pod as its last status (API or status manager) saw it. */
export function lastKnownContainer(
  pod: Pod,
  runtimeStatus: PodRuntimeStatus,
  containerId: string,
): LastKnownContainer | undefined {
  const instance = runtimeStatus.containers.find((c) => c.id === containerId);
  if (instance?.state !== 'running') return undefined;
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const apiStatus = statuses.find(
    (s) => s.containerID === containerId || (s.containerID ?? '').endsWith(`://${containerId}`),
  );
  const podWasReady = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return { startedAtMs: instance.startedAt ?? instance.createdAt, apiStatus, podWasReady };
}

/** Ran since well before the prober started: it was running when the kubelet restarted. */
function runningBeforeRestart(last: LastKnownContainer | undefined, proberStartMs: number): boolean {
  return last !== undefined && last.startedAtMs < proberStartMs - KUBELET_RESTART_GRACE_MS;
}

/**
 * Upstream isContainerStarted: the startup probe's result when it has one; otherwise a container
 * the last status called started stays started; otherwise started unless a startup probe waits.
 */
export function startedAcrossRestart(
  startupResult: ProbeResult | undefined,
  hasStartupProbe: boolean,
  last: LastKnownContainer | undefined,
): boolean {
  if (startupResult !== undefined) return startupResult === 'Success';
  if (last?.apiStatus?.started === true) return true;
  return !hasStartupProbe;
}

/**
 * Upstream UpdatePodStatus + setReadyStateOnKubeletRestart for a started, running container:
 * ready on a successful readiness result or without a readiness probe; a container running since
 * before the kubelet restarted and not probed yet keeps the pod's last readiness (ready only if
 * the pod's Ready condition was True); anything else waits for its probe.
 */
export function readyAcrossRestart(
  readinessResult: ProbeResult | undefined,
  hasReadinessProbe: boolean,
  last: LastKnownContainer | undefined,
  proberStartMs: number,
): boolean {
  if (readinessResult === 'Success' || !hasReadinessProbe) return true;
  if (!runningBeforeRestart(last, proberStartMs)) return false;
  return readinessResult === undefined && last?.podWasReady === true;
}
