import { join } from 'node:path';

/** Default KubeletConfiguration.podLogsDir. */
export const defaultPodLogsDir = '/var/log/pods';

/** /var/log/pods/<namespace>_<name>_<uid>: the sandbox's CRI log directory. */
export function podLogDirectory(podLogsDir: string, namespace: string, name: string, uid: string): string {
  return join(podLogsDir, `${namespace}_${name}_${uid}`);
}

/** <container>/<restartCount>.log, relative to the pod log directory (CRI ContainerConfig.log_path). */
export function containerLogPath(containerName: string, restartCount: number): string {
  return join(containerName, `${restartCount}.log`);
}
