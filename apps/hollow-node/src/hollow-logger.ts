/** A pino-shaped logger: fields first, then the message (fits KubeletLogger and ProxyLogger). */
export interface HollowLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Warnings and errors as JSON lines on `write`, each with the node it came from; routine progress
 * is dropped (a thousand nodes' pod starts would bury what matters).
 */
export function hollowLogger(node: string, write: (line: string) => void): HollowLogger {
  const line = (level: string) => (obj: object, msg?: string) =>
    write(`${JSON.stringify({ level, node, msg, ...obj })}\n`);
  return { debug() {}, info() {}, warn: line('warn'), error: line('error') };
}
