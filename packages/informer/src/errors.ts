import { CodedError } from '@nodeagent/primitives';

/** A failure status from the API server (HTTP status or a watch ERROR event). */
export class ApiStatusError extends Error {
  constructor(
    /** HTTP status code (410 for expired resourceVersions). */
    readonly code: number,
    /** Kubernetes StatusReason, e.g. `Expired`, `Gone`, `TooManyRequests`. */
    readonly reason: string,
    message: string,
    /** Seconds from `Retry-After` / `details.retryAfterSeconds`, when the server sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiStatusError';
  }

  /** 410 Gone / Expired: the resourceVersion was compacted and the reflector must relist. */
  get expired(): boolean {
    return this.code === 410 || this.reason === 'Expired' || this.reason === 'Gone';
  }
}

/** No bytes arrived on a watch for longer than the inactivity timeout (half-open connection). */
export class WatchInactivityError extends CodedError {
  constructor(readonly timeoutMs: number) {
    super('WATCH_INACTIVE', `watch received nothing for ${timeoutMs} ms`);
  }
}

/** The connection ended abnormally (reset, aborted mid-stream). */
export class WatchDroppedError extends CodedError {
  constructor(cause: string) {
    super('WATCH_DROPPED', `watch connection dropped: ${cause}`);
  }
}

/** waitForSync() on a reflector that was stopped before its first list completed. */
export class InformerStoppedError extends CodedError {
  constructor() {
    super('INFORMER_STOPPED', 'informer stopped before it synced');
  }
}

/**
 * HTTPS_PROXY or HTTP_PROXY holds what is not a proxy client-go could use: every request it would
 * carry fails with this, naming the variable and its value.
 */
export class InvalidProxyError extends CodedError {
  constructor(
    readonly variable: string,
    readonly value: string,
    why: string,
  ) {
    super('INVALID_PROXY', `invalid proxy address ${JSON.stringify(value)} in ${variable}: ${why}`);
  }
}
