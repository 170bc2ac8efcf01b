/**
 * The structured logger the kubelet and its parts write to (pino-shaped: fields first, then the
 * message). Its own file at the bottom of the layers, so a part that logs (certificates, logs,
 * server) does not import the Kubelet to name it.
 */
export interface KubeletLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
