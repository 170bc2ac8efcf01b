import type { PodCondition } from '../api/pod-types';
import { rfc3339 } from '../rfc3339';

export const podResizePending = 'PodResizePending';
export const podResizeInProgress = 'PodResizeInProgress';

interface PodResizeConditions {
  pending?: PodCondition;
  inProgress?: PodCondition;
}

/**
 * The kubelet's resize conditions per pod (upstream status manager's podResizeConditions):
 * PodResizePending (reason Deferred or Infeasible, with the admit handler's message) and
 * PodResizeInProgress (no reason; reason Error with the message while applying fails), each
 * carrying the generation it was computed for. The transition time stays while the condition
 * stays the same.
 */
export class ResizeConditions {
  private readonly byPod = new Map<string, PodResizeConditions>();

  private entry(uid: string): PodResizeConditions {
    let entry = this.byPod.get(uid);
    if (!entry) {
      entry = {};
      this.byPod.set(uid, entry);
    }
    return entry;
  }

  /** Sets PodResizePending; true when it is new or says something new (reason, message, generation). */
  setPending(
    uid: string,
    reason: string,
    message: string,
    observedGeneration: number | undefined,
    now: number,
  ): boolean {
    const entry = this.entry(uid);
    const old = entry.pending;
    if (
      old &&
      old.reason === reason &&
      old.message === message &&
      old.observedGeneration === observedGeneration
    )
      return false;
    entry.pending = condition(podResizePending, old, now, observedGeneration, reason, message);
    return true;
  }

  clearPending(uid: string): void {
    const entry = this.byPod.get(uid);
    if (entry) delete entry.pending;
  }

  pending(uid: string): PodCondition | undefined {
    return this.byPod.get(uid)?.pending;
  }

  setInProgress(
    uid: string,
    observedGeneration: number | undefined,
    now: number,
    reason = '',
    message = '',
  ): void {
    const entry = this.entry(uid);
    entry.inProgress = condition(
      podResizeInProgress,
      entry.inProgress,
      now,
      observedGeneration,
      reason,
      message,
    );
  }

  clearInProgress(uid: string): void {
    const entry = this.byPod.get(uid);
    if (entry) delete entry.inProgress;
  }

  inProgress(uid: string): PodCondition | undefined {
    return this.byPod.get(uid)?.inProgress;
  }

  /** The conditions to report, pending first. */
  conditions(uid: string): PodCondition[] {
    const entry = this.byPod.get(uid);
    return [entry?.pending, entry?.inProgress].filter((c): c is PodCondition => c !== undefined);
  }

  removePod(uid: string): void {
    this.byPod.delete(uid);
  }
}

function condition(
  type: string,
  old: PodCondition | undefined,
  now: number,
  observedGeneration: number | undefined,
  reason: string,
  message: string,
): PodCondition {
  const same = old && (old.reason ?? '') === reason && (old.message ?? '') === message;
  const out: PodCondition = {
    type,
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: same && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now),
  };
  if (reason) out.reason = reason;
  if (message) out.message = message;
  if (observedGeneration !== undefined) out.observedGeneration = observedGeneration;
  return out;
}
