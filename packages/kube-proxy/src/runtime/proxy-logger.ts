/**
 * The slice of pino's API the proxier uses; any pino logger fits. The library takes this interface
 * and never makes a logger itself: the kube-proxy executable builds its pino one (klog text or JSON).
 */
export interface ProxyLogger {
  /** Detail for troubleshooting (the executable logs it at `-v=4` and up); `obj`'s fields become log keys. */
  debug(obj: object, msg?: string): void;
  /** Routine events: syncs, started servers, detected node facts. */
  info(obj: object, msg?: string): void;
  /** Something is off but the proxy carries on (an unsupported setting, a failed conntrack flush). */
  warn(obj: object, msg?: string): void;
  /** An operation failed (a sync that will be retried, a server that could not start). */
  error(obj: object, msg?: string): void;
  /**
   * Whether `level`'s lines are written (pino's): lets a caller skip gathering what only a debug
   * line shows. Without it, such extras are not gathered.
   */
  isLevelEnabled?(level: 'debug'): boolean;
}

/** A ProxyLogger that drops everything: the default where a logger is optional, and for tests. */
export const silentLogger: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };
