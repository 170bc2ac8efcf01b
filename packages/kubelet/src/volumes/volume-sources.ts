import type { Volume } from '../api/pod-types';

/** Every source a core/v1 Volume can name (one definition, in @nodeagent/primitives). */
export { type VolumeSourceKey, volumeSourceKeys } from '@nodeagent/primitives';

import { type VolumeSourceKey, volumeSourceKeys } from '@nodeagent/primitives';

/**
 * What this kubelet's volume manager does with a source, after upstream v1.36's:
 * - `plugin`: set up here (emptyDir, hostPath, configMap, secret, downwardAPI, projected, image,
 *   persistentVolumeClaim and generic ephemeral, which fail their set-up unless CSI volumes are
 *   set up here: their claims are then mounted through the CSI plugin).
 * - `csi`: upstream's CSI plugin, through the driver registered under the volume's name (without
 *   CSI volumes here, every mount fails as upstream's does for an unregistered driver).
 * - `migrated`: the in-tree cloud disks whose migration to CSI v1.36 completed: translated to the
 *   CSI driver's volume and set up through it (csi/migration); without CSI volumes here, as
 *   `attach`.
 * - `nfs`: upstream's nfs plugin runs mount(8) (see nfs-mount.ts).
 * - `noPlugin`: no v1.36 plugin matches (glusterfs, rbd and cephfs were removed in v1.26 and v1.31,
 *   the others earlier): upstream's populator refuses the volume. A flexVolume is among them until
 *   its driver is installed under volumePluginDir; then the FlexVolume plugin (flex/) sets it up.
 * - `attach`: sources upstream has attached by the attach/detach controller before mounting
 *   (iscsi, fc): no attachment is ever reported to this kubelet, so
 *   the pod waits, as upstream's does for an attachment that never comes, without an event
 *   (upstream's kubelet records none when its wait for the mount times out, since v1.28).
 * - `refused`: not admitted here (gitRepo): the pod fails validation.
 */
export type VolumeSourceHandling = 'plugin' | 'csi' | 'migrated' | 'nfs' | 'noPlugin' | 'attach' | 'refused';

const handling: Record<VolumeSourceKey, VolumeSourceHandling> = {
  hostPath: 'plugin',
  emptyDir: 'plugin',
  secret: 'plugin',
  configMap: 'plugin',
  downwardAPI: 'plugin',
  projected: 'plugin',
  image: 'plugin',
  persistentVolumeClaim: 'plugin',
  csi: 'csi',
  nfs: 'nfs',
  glusterfs: 'noPlugin',
  rbd: 'noPlugin',
  cephfs: 'noPlugin',
  flocker: 'noPlugin',
  quobyte: 'noPlugin',
  storageos: 'noPlugin',
  scaleIO: 'noPlugin',
  photonPersistentDisk: 'noPlugin',
  flexVolume: 'noPlugin',
  gcePersistentDisk: 'migrated',
  awsElasticBlockStore: 'migrated',
  azureDisk: 'migrated',
  azureFile: 'migrated',
  cinder: 'migrated',
  vsphereVolume: 'migrated',
  portworxVolume: 'migrated',
  iscsi: 'attach',
  fc: 'attach',
  gitRepo: 'refused',
  ephemeral: 'plugin',
};

/** The sources `volume` names (one for a valid volume). */
export function volumeSources(volume: Volume): VolumeSourceKey[] {
  const fields = volume as unknown as Record<string, unknown>;
  return volumeSourceKeys.filter((key) => fields[key] !== undefined && fields[key] !== null);
}

/** How this kubelet handles `source` (see {@link VolumeSourceHandling}). */
export function volumeSourceHandling(source: VolumeSourceKey): VolumeSourceHandling {
  return handling[source];
}

/** Upstream's populator error for a volume no plugin matches (desired_state_of_world AddPodToVolume). */
export function noPluginMessage(volumeName: string): string {
  return `failed to get Plugin from volumeSpec for volume ${JSON.stringify(volumeName)} err=no volume plugin matched`;
}

/** Upstream's CSI mounter error when the volume's driver never registered with the kubelet. */
export function csiDriverMissingMessage(driver: string): string {
  return `kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name ${driver} not found in the list of registered CSI drivers`;
}
