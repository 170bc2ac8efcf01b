import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** The CSI plugin's name and directory under pods/<uid>/volumes/ (upstream CSIPluginName, escaped). */
export const CSI_PLUGIN_NAME = 'kubernetes.io/csi';
/** The CSI plugin's directory name under pods/<uid>/volumes/ (its name with `/` escaped as `~`). */
export const CSI_POD_VOLUME_DIR = 'kubernetes.io~csi';
/** The file beside a pod's CSI mount that says how to tear it down (upstream volDataFileName). */
export const VOL_DATA_FILE = 'vol_data.json';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** An inline volume's handle: `csi-` + sha256(pod UID + volume name) (upstream makeVolumeHandle). */
export function inlineVolumeHandle(podUid: string, volumeName: string): string {
  return `csi-${sha256(`${podUid}${volumeName}`)}`;
}

/** The VolumeAttachment name for a volume on a node (upstream getAttachmentName). */
export function attachmentName(volumeHandle: string, driver: string, nodeName: string): string {
  return `csi-${sha256(`${volumeHandle}${driver}${nodeName}`)}`;
}

/** `<root>/pods/<uid>/volumes/kubernetes.io~csi/<name>`: vol_data.json and the mount directory live here. */
export function csiPodVolumeDir(rootDir: string, podUid: string, volumeName: string): string {
  return join(rootDir, 'pods', podUid, 'volumes', CSI_POD_VOLUME_DIR, volumeName);
}

/** The pod's publish target: `<pod volume dir>/mount`. */
export function csiPublishPath(rootDir: string, podUid: string, volumeName: string): string {
  return join(csiPodVolumeDir(rootDir, podUid, volumeName), 'mount');
}

/**
 * A persistent volume's node-global staging path:
 * `<root>/plugins/kubernetes.io/csi/<driver>/<sha256(volume handle)>/globalmount`
 * (upstream makeDeviceMountPath since v1.25).
 */
export function csiStagingPath(rootDir: string, driver: string, volumeHandle: string): string {
  return join(rootDir, 'plugins', CSI_PLUGIN_NAME, driver, sha256(volumeHandle), 'globalmount');
}
