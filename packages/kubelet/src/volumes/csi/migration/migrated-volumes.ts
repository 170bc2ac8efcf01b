import type { Volume } from '../../../api/pod-types';
import type { PersistentVolumeObject } from '../csi-storage-objects';
import {
  IN_TREE_PLUGINS,
  inTreePluginOf,
  translateInTreeInlineVolume,
  translateInTreePersistentVolume,
} from './in-tree-plugins';
import type { InTreePersistentVolume, InTreeVolume } from './in-tree-sources';

/**
 * The PersistentVolume as the CSI plugin sets it up: a CSI one as it is, an in-tree one of a
 * migrated plugin translated to its CSI driver's (upstream's populator translates every such
 * spec: all seven migrations are GA and locked on in v1.36). Anything else is returned as it is.
 */
export function migratedPersistentVolume(pv: PersistentVolumeObject): PersistentVolumeObject {
  if (pv.spec?.csi) return pv;
  const inTree = pv as InTreePersistentVolume;
  if (!inTreePluginOf(inTree, undefined)) return pv;
  try {
    return translateInTreePersistentVolume(inTree);
  } catch (e) {
    throw new Error(`failed to translate in-tree pv to CSI: ${(e as Error).message}`);
  }
}

/** Whether `volume` is an inline in-tree volume of a migrated plugin (gcePersistentDisk, ...). */
export function isMigratedInline(volume: Volume): boolean {
  return inTreePluginOf(undefined, volume as InTreeVolume) !== undefined;
}

/** An inline in-tree volume as the CSI PersistentVolume upstream's translation makes of it. */
export function translateMigratedInline(volume: Volume, podNamespace: string): PersistentVolumeObject {
  try {
    return translateInTreeInlineVolume(volume as InTreeVolume, podNamespace);
  } catch (e) {
    throw new Error(`failed to translate in-tree pv to CSI: ${(e as Error).message}`);
  }
}

/**
 * The in-tree plugins whose volumes this kubelet hands to CSI drivers, as the CSINode's
 * migrated-plugins annotation names them (upstream's csi plugin Init: Portworx behind
 * CSIMigrationPortworx, which v1.36 locks on, so all seven).
 */
export function migratedInTreePluginNames(): string[] {
  return IN_TREE_PLUGINS.map((plugin) => plugin.inTreePluginName).sort();
}
