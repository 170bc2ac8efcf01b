import type { PersistentVolumeObject } from './csi/csi-storage-objects';

/** The beta annotation upstream reads before spec.mountOptions (v1.MountOptionAnnotation). */
export const MOUNT_OPTION_ANNOTATION = 'volume.beta.kubernetes.io/mount-options';

/**
 * Upstream's MountOptionFromSpec: a PersistentVolume's mount options (the beta annotation's
 * comma-separated list first, else spec.mountOptions) joined with the plugin's own `options` as
 * JoinMountOptions joins them: each once, empty ones of the volume's dropped, sorted.
 */
export function mountOptionsFromPV(pv: PersistentVolumeObject | undefined, ...options: string[]): string[] {
  const annotated = pv?.metadata?.annotations?.[MOUNT_OPTION_ANNOTATION];
  const fromVolume = annotated !== undefined ? annotated.split(',') : (pv?.spec?.mountOptions ?? []);
  return [...new Set([...fromVolume.filter((option) => option !== ''), ...options])].sort();
}
