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
export class WatchInactivityError extends Error {
  readonly code = 'WATCH_INACTIVE';
  constructor(readonly timeoutMs: number) {
    super(`watch received nothing for ${timeoutMs} ms`);
    this.name = 'WatchInactivityError';
  }
}

/** The connection ended abnormally (reset, aborted mid-stream). */
export class WatchDroppedError extends Error {
  readonly code = 'WATCH_DROPPED';
  constructor(cause: string) {
    super(`watch connection dropped: ${cause}`);
    this.name = 'WatchDroppedError';
  }
}

/** A configuration value that cannot work, with the option name. */
export class InvalidOptionError extends Error {
  readonly code = 'INVALID_OPTION';
  constructor(
    readonly option: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`invalid ${option} ${JSON.stringify(value)}: ${reason}`);
    this.name = 'InvalidOptionError';
  }
}

/** waitForSync() on a reflector that was stopped before its first list completed. */
export class InformerStoppedError extends Error {
  readonly code = 'INFORMER_STOPPED';
  constructor() {
    super('informer stopped before it synced');
    this.name = 'InformerStoppedError';
  }
}
