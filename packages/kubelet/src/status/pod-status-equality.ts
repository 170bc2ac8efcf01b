// The status manager's reconcile compares the API server's copy of a pod's status with the
// kubelet's own, the way upstream's needsReconcile does: both normalised (normalizeStatus), then
// equal in every field and in the conditions the kubelet owns or shares
// (isPodStatusByKubeletEqual). Conditions others own never count.

import type { ContainerState, ContainerStatus, Pod, PodStatus } from '../api/pod-types';
import { KUBELET_CONDITIONS } from './pod-conditions';

/** Upstream kubecontainer.MaxPodTerminationMessageLogLength: the termination message budget of a pod. */
export const MAX_POD_TERMINATION_MESSAGE_BYTES = 1024 * 12;

/** Conditions the kubelet shares with others (upstream PodConditionSharedByKubelet). */
const SHARED_CONDITIONS: ReadonlySet<string> = new Set(['DisruptionTarget']);

/** A time as the API server renders it: RFC 3339 in seconds (a value that does not parse stays). */
function toSeconds(time: string | null | undefined): string | null | undefined {
  if (!time) return time;
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return time;
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The first `bytes` bytes of `text` in UTF-8, as upstream cuts a Go string. */
function truncateBytes(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8');
  return encoded.length <= bytes ? text : encoded.subarray(0, bytes).toString('utf8');
}

function normalizeState(
  state: ContainerState | undefined,
  bytesPerStatus: number,
): ContainerState | undefined {
  if (!state) return state;
  const normalized: ContainerState = { ...state };
  if (state.running)
    normalized.running = { ...state.running, startedAt: toSeconds(state.running.startedAt) ?? undefined };
  if (state.terminated) {
    const { message } = state.terminated;
    normalized.terminated = {
      ...state.terminated,
      startedAt: toSeconds(state.terminated.startedAt) ?? undefined,
      finishedAt: toSeconds(state.terminated.finishedAt) ?? undefined,
      ...(message === undefined ? {} : { message: truncateBytes(message, bytesPerStatus) }),
    };
  }
  return normalized;
}

function normalizeContainers(
  statuses: ContainerStatus[] | undefined,
  bytesPerStatus: number,
): ContainerStatus[] | undefined {
  return statuses?.map((status) => {
    const normalized: ContainerStatus = {
      ...status,
      state: normalizeState(status.state, bytesPerStatus) ?? status.state,
    };
    if (status.lastState)
      normalized.lastState = normalizeState(status.lastState, bytesPerStatus) ?? status.lastState;
    return normalized;
  });
}

const byName = (a: ContainerStatus, b: ContainerStatus) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Upstream normalizeStatus, on a copy: times to RFC 3339 seconds, termination messages cut to
 * the pod's per-container share of {@link MAX_POD_TERMINATION_MESSAGE_BYTES}, regular and
 * ephemeral container statuses sorted by name, init ones in spec order.
 */
export function normalizePodStatus(pod: Pod, status: PodStatus): PodStatus {
  const containerCount =
    pod.spec.containers.length +
    (pod.spec.initContainers?.length ?? 0) +
    (pod.spec.ephemeralContainers?.length ?? 0);
  const bytesPerStatus =
    containerCount > 0
      ? Math.floor(MAX_POD_TERMINATION_MESSAGE_BYTES / containerCount)
      : MAX_POD_TERMINATION_MESSAGE_BYTES;
  const initOrder = new Map((pod.spec.initContainers ?? []).map((c, index) => [c.name, index]));
  const specIndex = (s: ContainerStatus) => initOrder.get(s.name) ?? Number.MAX_SAFE_INTEGER;
  const normalized: PodStatus = { ...status };
  if (status.startTime) normalized.startTime = toSeconds(status.startTime) ?? undefined;
  if (status.conditions)
    normalized.conditions = status.conditions.map((c) => ({
      ...c,
      lastProbeTime: toSeconds(c.lastProbeTime),
      lastTransitionTime: toSeconds(c.lastTransitionTime) ?? undefined,
    }));
  normalized.containerStatuses = normalizeContainers(status.containerStatuses, bytesPerStatus)?.sort(byName);
  normalized.initContainerStatuses = normalizeContainers(status.initContainerStatuses, bytesPerStatus)?.sort(
    (a, b) => specIndex(a) - specIndex(b),
  );
  normalized.ephemeralContainerStatuses = normalizeContainers(
    status.ephemeralContainerStatuses,
    bytesPerStatus,
  )?.sort(byName);
  return normalized;
}

/**
 * A value with its Go zero values left out (undefined, null, '', 0, false, empty lists and
 * objects): the API server omits them when it renders a status, so an absent field and its zero
 * value are the same status (as Go's semantic equality sees an omitted field).
 */
function withoutZeroValues(value: unknown): unknown {
  if (value === undefined || value === null || value === '' || value === 0 || value === false)
    return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => withoutZeroValues(item) ?? {});
    return items.length > 0 ? items : undefined;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => [key, withoutZeroValues(item)] as const)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(withoutZeroValues(a)) === JSON.stringify(withoutZeroValues(b));
}

/**
 * Upstream isPodStatusByKubeletEqual: `status` (the kubelet's) matches `apiStatus` when every
 * condition of `status` the kubelet owns or shares has the same status, reason and message in
 * `apiStatus`, and every other field is equal. Conditions only others own are not compared. Both
 * should be normalised first ({@link normalizePodStatus}).
 */
export function isPodStatusByKubeletEqual(apiStatus: PodStatus, status: PodStatus): boolean {
  for (const condition of status.conditions ?? []) {
    if (!KUBELET_CONDITIONS.has(condition.type) && !SHARED_CONDITIONS.has(condition.type)) continue;
    const api = apiStatus.conditions?.find((c) => c.type === condition.type);
    if (
      !api ||
      api.status !== condition.status ||
      (api.message ?? '') !== (condition.message ?? '') ||
      (api.reason ?? '') !== (condition.reason ?? '')
    )
      return false;
  }
  const { conditions: _api, ...apiFields } = apiStatus;
  const { conditions: _own, ...ownFields } = status;
  return sameValue(apiFields, ownFields);
}
