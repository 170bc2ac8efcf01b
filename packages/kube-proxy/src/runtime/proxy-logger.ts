/**
 * The slice of pino's API the proxier uses; any pino logger fits. The library takes this interface
 * and never makes a logger itself: the kube-proxy executable builds its pino one (klog text or JSON).
 */
export interface ProxyLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };
