/** A held "delay" inhibitor lock on shutdown: logind waits (up to InhibitDelayMaxUSec) until it is released. */
export interface InhibitLock {
  /** Closes the lock's file descriptor; logind then goes on with the shutdown. Safe to call twice. */
  release(): Promise<void> | void;
}

/** A watch on logind's PrepareForShutdown signal. */
export interface ShutdownWatch {
  /** Stops the watch; `onEnd` is not called for a stop asked for here. */
  stop(): void;
}

/**
 * What the node shutdown manager asks of systemd-logind (upstream's dbusInhibiter), one
 * connection to the system bus. Every call rejects when logind or the bus fails.
 */
export interface LogindInhibitor {
  /** logind's InhibitDelayMaxUSec, in milliseconds. */
  currentInhibitDelayMs(): Promise<number>;
  /** Writes the logind drop-in that raises InhibitDelayMaxSec to `delayMs` (upstream 99-kubelet.conf). */
  overrideInhibitDelay(delayMs: number): Promise<void>;
  /** Asks logind to read its configuration again (SIGHUP; asynchronous on logind's side). */
  reloadLogindConf(): Promise<void>;
  /** Takes a "delay" lock on shutdown for the kubelet. */
  inhibitShutdown(): Promise<InhibitLock>;
  /**
   * Subscribes to PrepareForShutdown: `onEvent(true)` when a shutdown starts, `onEvent(false)`
   * when it was cancelled; `onEnd` once when the connection is lost.
   */
  monitorShutdown(
    onEvent: (shuttingDown: boolean) => void,
    onEnd: (error?: unknown) => void,
  ): Promise<ShutdownWatch>;
  /** Closes the connection (a held lock stays held until released). */
  close(): void;
}
