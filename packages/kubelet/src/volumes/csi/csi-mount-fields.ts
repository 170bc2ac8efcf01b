import type { CsiNodeClient } from '@nodeagent/csi-client';
import type { Pod } from '../../api/pod-types';
import { setVolumeOwnership } from '../fs-group';
import { csiFsGroup, csiFsGroupPolicy } from './csi-fs-group';
import { checkSELinuxMount } from './csi-selinux';
import { type CsiTokenRequester, serviceAccountTokenAttrs } from './csi-service-account-tokens';
import type { CsiDriverObject } from './csi-storage-objects';

/** What the CSIDriver object and the pod add to one NodePublishVolume (and what follows it). */
export interface CsiMountFields {
  /** Service account tokens for volume_context (tokenRequests). */
  tokenAttrs: Record<string, string>;
  /** VolumeCapability.mount.volume_mount_group, for a driver with VOLUME_MOUNT_GROUP. */
  volumeMountGroup?: string;
  /** The fsGroup the kubelet applies to the published volume itself (fsGroupPolicy). */
  applyFsGroup?: { fsGroup: number; policy: 'Always' | 'OnRootMismatch' };
}

/** One volume's facts the CSIDriver fields are checked against. */
export interface CsiMountFieldsInput {
  pod: Pod;
  driver: CsiDriverObject | undefined;
  client: CsiNodeClient;
  inline: boolean;
  fsType: string | undefined;
  accessModes: string[] | undefined;
  readOnly: boolean;
  tokens: CsiTokenRequester | undefined;
  selinuxEnabled: boolean;
}

/**
 * The CSIDriver fields upstream's SetUpAt applies before NodePublishVolume, in its order:
 * fsGroupPolicy (an object without one fails the mount), tokenRequests, whether the driver takes
 * a volume mount group (one NodeGetCapabilities), SELinux mount.
 */
export async function csiMountFields(input: CsiMountFieldsInput): Promise<CsiMountFields> {
  const policy = csiFsGroupPolicy(input.driver);
  const tokenAttrs = await serviceAccountTokenAttrs(input.pod, input.driver, input.tokens);
  const takesMountGroup = (await input.client.nodeGetCapabilities()).includes('VOLUME_MOUNT_GROUP');
  checkSELinuxMount(input.pod, input.driver, input.accessModes, input.selinuxEnabled);
  const group = csiFsGroup(
    input.pod,
    {
      policy,
      readOnly: input.readOnly,
      fsType: input.fsType,
      accessModes: input.accessModes,
      inline: input.inline,
    },
    takesMountGroup,
  );
  return {
    tokenAttrs,
    ...(group.volumeMountGroup !== undefined ? { volumeMountGroup: group.volumeMountGroup } : {}),
    ...(group.apply ? { applyFsGroup: group.apply } : {}),
  };
}

/** After NodePublishVolume: the fsGroup upstream's SetUpAt applies when the driver does not. */
export async function applyCsiFsGroup(
  target: string,
  volumeId: string,
  fields: CsiMountFields,
): Promise<void> {
  if (!fields.applyFsGroup) return;
  try {
    await setVolumeOwnership(target, fields.applyFsGroup.fsGroup, { policy: fields.applyFsGroup.policy });
  } catch (e) {
    throw new Error(`applyFSGroup failed for vol ${volumeId}: ${(e as Error).message}`);
  }
}
