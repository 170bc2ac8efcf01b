/**
 * The in-tree volume plugins whose volumes CSI drivers took over, and the translation of their
 * PersistentVolumes and inline pod volumes to CSI ones (upstream csi-translation-lib's
 * translate.go, the kubelet's part: no StorageClass translation, no way back to in-tree).
 */

import { goQuote } from '@nodeagent/primitives/go-text';
import { awsElasticBlockStorePlugin } from './aws-ebs';
import { azureDiskPlugin } from './azure-disk';
import { azureFilePlugin } from './azure-file';
import { gcePersistentDiskPlugin } from './gce-pd';
import type {
  InTreePersistentVolume,
  InTreePlugin,
  InTreeVolume,
  TranslatedPersistentVolume,
} from './in-tree-sources';
import { openStackCinderPlugin } from './openstack-cinder';
import { portworxVolumePlugin } from './portworx';
import { vsphereVolumePlugin } from './vsphere-volume';

export type {
  InTreePersistentVolume,
  InTreePlugin,
  InTreeVolume,
  TranslatedPersistentVolume,
} from './in-tree-sources';

export const IN_TREE_PLUGINS: readonly InTreePlugin[] = [
  gcePersistentDiskPlugin,
  awsElasticBlockStorePlugin,
  openStackCinderPlugin,
  azureDiskPlugin,
  azureFilePlugin,
  vsphereVolumePlugin,
  portworxVolumePlugin,
];

/**
 * The plugin whose source the PV carries or, without a PV, the pod volume carries
 * (GetInTreePluginNameFromSpec); undefined when neither has a translated source.
 */
export function inTreePluginOf(
  pv: InTreePersistentVolume | undefined,
  volume: InTreeVolume | undefined,
): InTreePlugin | undefined {
  if (pv) return IN_TREE_PLUGINS.find((plugin) => plugin.canSupport(pv));
  if (volume) return IN_TREE_PLUGINS.find((plugin) => plugin.canSupportInline(volume));
  return undefined;
}

/** The PV with its in-tree source translated to a CSI one (TranslateInTreePVToCSI); the input is not changed. */
export function translateInTreePersistentVolume(
  pv: InTreePersistentVolume | undefined,
): TranslatedPersistentVolume {
  if (!pv) throw new Error('persistent volume was nil');
  const plugin = IN_TREE_PLUGINS.find((candidate) => candidate.canSupport(pv));
  if (!plugin) {
    throw new Error(
      `could not find in-tree plugin translation logic for ${goQuote(pv.metadata?.name ?? '')}`,
    );
  }
  return plugin.translatePersistentVolume(pv);
}

/**
 * A CSI PV standing for the pod's inline in-tree volume (TranslateInTreeInlineVolumeToCSI), in
 * Filesystem mode unless its plugin set one: inline volumes are never block devices.
 */
export function translateInTreeInlineVolume(
  volume: InTreeVolume | undefined,
  podNamespace: string,
): TranslatedPersistentVolume {
  if (!volume) throw new Error('persistent volume was nil');
  const plugin = IN_TREE_PLUGINS.find((candidate) => candidate.canSupportInline(volume));
  if (!plugin) {
    throw new Error(`could not find in-tree plugin translation logic for ${goQuote(volume.name ?? '')}`);
  }
  const pv = plugin.translateInlineVolume(volume, podNamespace);
  pv.spec ??= {};
  pv.spec.volumeMode ??= 'Filesystem';
  return pv;
}
