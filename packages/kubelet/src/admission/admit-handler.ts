import type { Pod } from '../api/pod-types';

/** What an admit handler sees: the new pod and the pods already admitted (upstream PodAdmitAttributes). */
export interface PodAdmitAttributes {
  pod: Pod;
  otherPods: Pod[];
}

/** Upstream PodAdmitResult: a refusal carries a one-word reason and a message for the pod status. */
export type PodAdmitResult = { admit: true } | { admit: false; reason: string; message: string };

/** One check a new pod must pass before the kubelet runs anything for it (upstream PodAdmitHandler). */
export interface PodAdmitHandler {
  /** Decides synchronously whether `attrs.pod` may run beside `attrs.otherPods`; a refusal names reason and message. */
  admit(attrs: PodAdmitAttributes): PodAdmitResult;
}

/**
 * The part of admission that finishes after the synchronous checks: upstream's device manager
 * calls its plugins (GetPreferredAllocation, Allocate) inside admission; here admission reserves
 * the devices and the pod's worker starts once those calls have answered.
 */
export interface PendingAdmission {
  /** The outcome of what admitting pod `podUid` started; undefined when it started nothing. */
  admissionOutcome(podUid: string): Promise<PodAdmitResult> | undefined;
}

/** The answer of a handler that lets the pod through. */
export const admitted: PodAdmitResult = { admit: true };

/** Upstream lifecycle.UnexpectedAdmissionError: the reason a pod is refused with when a check itself failed. */
export const unexpectedAdmissionErrorReason = 'UnexpectedAdmissionError';

/** The prefix upstream's rejectPod puts before the handler's message in the pod status. */
export const podRejectedPrefix = 'Pod was rejected: ';

/**
 * Upstream canAdmitPod: the handlers run in order and the first refusal is the answer, so a pod
 * is never refused for two reasons at once and the cheaper, node-wide checks come first.
 */
export function admitPod(handlers: readonly PodAdmitHandler[], attrs: PodAdmitAttributes): PodAdmitResult {
  for (const handler of handlers) {
    const result = handler.admit(attrs);
    if (!result.admit) return result;
  }
  return admitted;
}
