import { KubeletError } from '../errors';

/**
 * A step of a pod sync that failed in a way the pod status should show: `reason` becomes the
 * container's waiting reason (upstream's ErrImagePull, ImagePullBackOff, CrashLoopBackOff,
 * CreateContainerConfigError, CreateContainerError, RunContainerError, PostStartHookError).
 */
export class SyncStepError extends KubeletError {
  /** When retrying makes sense again (the rest of a backoff), if known. */
  readonly retryAfterMs: number | undefined;
  /**
   * The event's message where upstream's differs from the status message: an image pull failure
   * reads `Failed to pull image "x": <error>` in the event and only `<error>` in the status.
   */
  readonly eventMessage: string | undefined;

  constructor(
    reason: string,
    container: string,
    message: string,
    retryAfterMs?: number,
    eventMessage?: string,
  ) {
    super(reason, `container ${container}`, container, message);
    this.message = message;
    this.retryAfterMs = retryAfterMs;
    this.eventMessage = eventMessage;
  }
}
