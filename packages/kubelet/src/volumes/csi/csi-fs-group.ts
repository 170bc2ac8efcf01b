import type { Pod } from '../../api/pod-types';
import { type FSGroupChangePolicy, podFSGroup } from '../fs-group';
import type { CsiDriverObject } from './csi-storage-objects';

/** CSIDriver spec.fsGroupPolicy values (storage/v1 FSGroupPolicy). */
export type FsGroupPolicy = 'ReadWriteOnceWithFSType' | 'File' | 'None';

/**
 * The driver's fsGroupPolicy as upstream's getFSGroupPolicy reads it: without a CSIDriver object
 * the default ReadWriteOnceWithFSType; an object without one (the API server defaults it, so only
 * a broken server sends that) is refused in upstream's words.
 */
export function csiFsGroupPolicy(driver: CsiDriverObject | undefined): FsGroupPolicy {
  if (!driver) return 'ReadWriteOnceWithFSType';
  const policy = driver.spec?.fsGroupPolicy;
  if (!policy)
    throw new Error(
      'kubernetes.io/csi: mounter.SetupAt failed to check fsGroup policy: kubernetes.io/csi: expected valid fsGroupPolicy, received nil value or empty string',
    );
  return policy as FsGroupPolicy;
}

/** What upstream's supportsFSGroup looks at for one volume. */
export interface FsGroupVolume {
  policy: FsGroupPolicy;
  readOnly: boolean;
  fsType: string | undefined;
  /** The PersistentVolume's access modes; undefined for an inline volume (always ReadWriteOnce). */
  accessModes: string[] | undefined;
  inline: boolean;
}

/**
 * Upstream csiMountMgr.supportsFSGroup: whether the kubelet changes the volume's ownership to the
 * pod's fsGroup after publishing it. Never for None or a read-only volume; always for File; for
 * ReadWriteOnceWithFSType only with an fsType and a ReadWriteOnce volume (inline volumes are).
 */
export function kubeletAppliesFsGroup(volume: FsGroupVolume): boolean {
  if (volume.policy === 'None' || volume.readOnly) return false;
  if (volume.policy === 'File') return true;
  if (!volume.fsType) return false;
  if (volume.inline) return true;
  return volume.accessModes?.includes('ReadWriteOnce') === true;
}

/**
 * The fsGroup handling of a CSI volume for a pod: the `volume_mount_group` the driver gets when it
 * has VOLUME_MOUNT_GROUP (upstream delegates the fsGroup to such a driver and changes nothing
 * itself), else the fsGroup and change policy the kubelet applies after NodePublishVolume, if any.
 */
export function csiFsGroup(
  pod: Pod,
  volume: FsGroupVolume,
  driverTakesMountGroup: boolean,
): { volumeMountGroup?: string; apply?: { fsGroup: number; policy: FSGroupChangePolicy } } {
  const group = podFSGroup(pod);
  if (!group) return {};
  if (driverTakesMountGroup) return { volumeMountGroup: String(group.fsGroup) };
  return kubeletAppliesFsGroup(volume) ? { apply: group } : {};
}
