/**
 * The structured logger the kubelet and its parts write to (pino-shaped: fields first, then the
 * message). Its own file at the bottom of the layers, so a part that logs (certificates, logs,
 * server) does not import the Kubelet to name it.
 */
export interface KubeletLogger {
  /** Routine progress (a pod started, a config loaded): `obj` holds the structured fields. */
  info(obj: object, msg?: string): void;
  /** Something unexpected the kubelet works around (e.g. an unreadable checkpoint it starts over from). */
  warn(obj: object, msg?: string): void;
  /** An operation failed (a relist, a pod sync, a log rotation); periodic work retries it on its next round. */
  error(obj: object, msg?: string): void;
}
