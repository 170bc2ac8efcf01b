import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

// The directories under --root-dir that hold one pod's data, named as upstream's kubelet_getters
// names them. CSI drivers, log shippers and node agents that read volume usage find a pod's
// volumes by these paths, so each is spelled once, here.

/** `<rootDir>/pods`: every pod's directory (getPodsDir). */
export function podsDir(rootDir: string): string {
  return join(rootDir, 'pods');
}

/** The uids of the pods that have a directory under `<rootDir>/pods`; none when it does not exist. */
export function podDirectories(rootDir: string): Promise<string[]> {
  return readdir(podsDir(rootDir)).catch(() => [] as string[]);
}

/** `<rootDir>/pods/<uid>`: the pod's directory (getPodDir). */
export function podDir(rootDir: string, uid: string): string {
  return join(podsDir(rootDir), uid);
}

/** `<rootDir>/pods/<uid>/volumes`: one directory per volume plugin, its volumes in it (getPodVolumesDir). */
export function podVolumesDir(rootDir: string, uid: string): string {
  return join(podDir(rootDir, uid), 'volumes');
}

/** `<rootDir>/pods/<uid>/volumeDevices`: block volumes' device links, per plugin (getPodVolumeDevicesDir). */
export function podVolumeDevicesDir(rootDir: string, uid: string): string {
  return join(podDir(rootDir, uid), 'volumeDevices');
}

/** `<rootDir>/pods/<uid>/plugins`: volume plugins' per-pod data (getPodPluginsDir). */
export function podPluginsDir(rootDir: string, uid: string): string {
  return join(podDir(rootDir, uid), 'plugins');
}

/** `<rootDir>/pods/<uid>/containers/<name>`: a container's files, its termination message among them (getPodContainerDir). */
export function podContainerDir(rootDir: string, uid: string, containerName: string): string {
  return join(podDir(rootDir, uid), 'containers', containerName);
}
