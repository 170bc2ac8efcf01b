import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { FieldError } from '@nodeagent/primitives';
import { podsDir, podVolumesDir } from '../../pod-dirs';

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

/** `<root>/pods/<uid>/volumes/kubernetes.io~csi`: the pod's CSI volumes, one directory each. */
export function csiPodVolumesDir(rootDir: string, podUid: string): string {
  return join(podVolumesDir(rootDir, podUid), CSI_POD_VOLUME_DIR);
}

/** `<root>/pods/<uid>/volumes/kubernetes.io~csi/<name>`: vol_data.json and the mount directory live here. */
export function csiPodVolumeDir(rootDir: string, podUid: string, volumeName: string): string {
  return join(csiPodVolumesDir(rootDir, podUid), escapeQualifiedName(volumeName));
}

/**
 * A spec name as a directory name, `/` written as `~` (upstream's EscapeQualifiedName): the
 * name of an inline Azure disk's translated volume is its disk URI.
 */
export function escapeQualifiedName(name: string): string {
  return name.replaceAll('/', '~');
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

/** A CSI publish target that would land outside its pod's volume directory. */
export class CsiTargetOutsidePodError extends FieldError {
  constructor(field: string, value: string, reason: string) {
    super('CSI_TARGET_OUTSIDE_POD', field, value, reason);
  }
}

/**
 * Refuses a pod uid or volume directory name that is no single path segment (`..`, `a/b`, empty):
 * the publish target `<root>/pods/<uid>/volumes/kubernetes.io~csi/<name>/mount` must stay inside
 * the pod's own directory, so no driver is ever asked to mount over another path of the node.
 */
export function checkPodVolumeTarget(rootDir: string, podUid: string, name: string, specName: string): void {
  const single = (segment: string) =>
    segment !== '' &&
    segment !== '.' &&
    segment !== '..' &&
    !segment.includes('/') &&
    !segment.includes('\0');
  const pods = resolve(podsDir(rootDir));
  if (!single(podUid))
    throw new CsiTargetOutsidePodError(
      'metadata.uid',
      podUid,
      `the CSI volume ${JSON.stringify(specName)} would be published outside the pod's directory under ${pods}; refused`,
    );
  if (!single(escapeQualifiedName(name)))
    throw new CsiTargetOutsidePodError(
      `spec.volumes[${specName}]`,
      name,
      `the CSI volume's target ${csiPublishPath(resolve(rootDir), podUid, name)} is outside the pod's volume directory; refused`,
    );
}
