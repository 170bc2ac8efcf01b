import type { Pod, PodStatus } from '../api/pod-types';

/** Upstream activeDeadlineHandler's pod status reason and message. */
export const deadlineExceededReason = 'DeadlineExceeded';
export const deadlineExceededMessage = 'Pod was active on the node longer than the specified deadline';

/**
 * Milliseconds until the pod's `activeDeadlineSeconds`, counted from its status `startTime`
 * (upstream pastActiveDeadline); undefined when it has no deadline or no start time yet. Zero or
 * less: the deadline has passed. Read from the current spec, so an updated deadline counts.
 */
export function activeDeadlineRemainingMs(
  pod: Pod,
  startTime: string | undefined,
  now: number,
): number | undefined {
  const seconds = pod.spec.activeDeadlineSeconds;
  if (seconds === undefined || seconds === null || !startTime) return undefined;
  const started = Date.parse(startTime);
  if (!Number.isFinite(started)) return undefined;
  return started + seconds * 1000 - now;
}

/**
 * Upstream ShouldEvict of the active deadline handler, applied to a generated status: past the
 * deadline the pod is Failed with reason DeadlineExceeded (its containers are then killed).
 * Returns whether it applied.
 */
export function applyActiveDeadline(pod: Pod, status: PodStatus, now: number): boolean {
  const remaining = activeDeadlineRemainingMs(pod, status.startTime, now);
  if (remaining === undefined || remaining > 0) return false;
  status.phase = 'Failed';
  status.reason = deadlineExceededReason;
  status.message = deadlineExceededMessage;
  return true;
}
