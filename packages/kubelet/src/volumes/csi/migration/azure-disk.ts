/** Azure Disk to the Azure Disk CSI driver (upstream plugins/azure_disk.go). Managed disks only. */
import type {
  AzureDiskSource,
  InTreePersistentVolume,
  InTreePlugin,
  InTreeVolume,
  TranslatedPersistentVolume,
} from './in-tree-sources';
import {
  copyOfPersistentVolume,
  csiSource,
  inlinePersistentVolume,
  withCsiSource,
} from './translated-volume';

export const AZURE_DISK_PLUGIN_NAME = 'kubernetes.io/azure-disk';
export const AZURE_DISK_DRIVER_NAME = 'disk.csi.azure.com';

const MANAGED = 'Managed';

/** Throws upstream's error for a disk kind other than Managed (compared without case). */
function checkManaged(source: AzureDiskSource): void {
  if (source.kind != null && source.kind.toLowerCase() !== MANAGED.toLowerCase()) {
    throw new Error(`kind(${source.kind}) is not supported in csi migration`);
  }
}

/**
 * The driver's volume attributes: kind, fstype when set, and cachingmode when set (for an inline
 * volume, when set and not empty, as upstream does).
 */
function diskAttributes(source: AzureDiskSource, keepEmptyCachingMode: boolean): Record<string, string> {
  const attributes: Record<string, string> = { kind: MANAGED };
  if (source.cachingMode != null && (keepEmptyCachingMode || source.cachingMode !== '')) {
    attributes['cachingmode'] = source.cachingMode;
  }
  if (source.fsType != null) attributes['fstype'] = source.fsType;
  return attributes;
}

function translatePersistentVolume(pv: InTreePersistentVolume | undefined): TranslatedPersistentVolume {
  const source = pv?.spec?.azureDisk;
  if (!pv || source == null) throw new Error('pv is nil or Azure Disk source not defined on pv');
  checkManaged(source);
  const csi = csiSource({
    driver: AZURE_DISK_DRIVER_NAME,
    volumeHandle: source.diskURI ?? '',
    readOnly: source.readOnly,
    fsType: source.fsType,
    volumeAttributes: diskAttributes(source, true),
  });
  return withCsiSource(copyOfPersistentVolume(pv), 'azureDisk', csi);
}

function translateInlineVolume(volume: InTreeVolume | undefined): TranslatedPersistentVolume {
  const source = volume?.azureDisk;
  if (source == null) throw new Error('volume is nil or Azure Disk not defined on volume');
  checkManaged(source);
  const diskUri = source.diskURI ?? '';
  const csi = csiSource({
    driver: AZURE_DISK_DRIVER_NAME,
    volumeHandle: diskUri,
    readOnly: source.readOnly,
    fsType: source.fsType,
    volumeAttributes: diskAttributes(source, false),
  });
  return inlinePersistentVolume(diskUri, csi, ['ReadWriteOnce']);
}

export const azureDiskPlugin: InTreePlugin = {
  inTreePluginName: AZURE_DISK_PLUGIN_NAME,
  csiDriverName: AZURE_DISK_DRIVER_NAME,
  canSupport: (pv) => pv?.spec?.azureDisk != null,
  canSupportInline: (volume) => volume?.azureDisk != null,
  translatePersistentVolume,
  translateInlineVolume,
};
