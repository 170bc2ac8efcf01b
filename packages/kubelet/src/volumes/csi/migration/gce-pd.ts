/** GCE Persistent Disk to the GCE PD CSI driver (upstream plugins/gce_pd.go). */
import { goStringSet } from './go-format';
import type {
  GcePersistentDiskSource,
  InTreePersistentVolume,
  InTreePlugin,
  InTreeVolume,
  TranslatedPersistentVolume,
} from './in-tree-sources';
import {
  LABEL_BETA_ZONE,
  LABEL_TOPOLOGY_ZONE,
  MULTI_ZONE_DELIMITER,
  translateZoneTopologyToCsi,
} from './in-tree-topology';
import {
  copyOfPersistentVolume,
  csiSource,
  inlinePersistentVolume,
  withCsiSource,
} from './translated-volume';

export const GCE_PD_PLUGIN_NAME = 'kubernetes.io/gce-pd';
export const GCE_PD_DRIVER_NAME = 'pd.csi.storage.gke.io';
export const GCE_PD_TOPOLOGY_KEY = 'topology.gke.io/zone';

/** The project or zone of a volume handle the translation cannot know (the driver repairs it). */
export const GCE_PD_UNSPECIFIED = 'UNSPECIFIED';

function zonalVolumeHandle(zone: string, pdName: string): string {
  return `projects/${GCE_PD_UNSPECIFIED}/zones/${zone}/disks/${pdName}`;
}

function regionalVolumeHandle(region: string, pdName: string): string {
  return `projects/${GCE_PD_UNSPECIFIED}/regions/${region}/disks/${pdName}`;
}

/** The one region of `zones` ({locale}-{region}-{zone} each), or upstream's error (gceGetRegionFromZones). */
function regionOfZones(zones: readonly string[]): string | Error {
  if (zones.length < 1) return new Error('no zones specified');
  const regions = new Set<string>();
  for (const zone of zones) {
    const parts = zone.split('-');
    if (parts.length !== 3) {
      return new Error(`zone in unexpected format, expected: {locale}-{region}-{zone}, got: ${zone}`);
    }
    regions.add(parts.slice(0, 2).join('-'));
  }
  const [region] = regions;
  if (regions.size !== 1 || region === undefined) {
    return new Error(`multiple or no regions gotten from zones, got: ${goStringSet(regions)}`);
  }
  return region;
}

/** The handle from the PV's zone label (beta first): zonal, regional for several zones, else unspecified. */
function persistentVolumeHandle(pv: InTreePersistentVolume, pdName: string): string {
  const labels = pv.metadata?.labels;
  const zonesLabel = labels?.[LABEL_BETA_ZONE] || labels?.[LABEL_TOPOLOGY_ZONE] || '';
  const zones = zonesLabel.split(MULTI_ZONE_DELIMITER);
  const [first = ''] = zones;
  if (zones.length === 1 && first !== '') return zonalVolumeHandle(first, pdName);
  if (zones.length > 1) {
    const region = regionOfZones(zones);
    if (region instanceof Error) throw new Error(`failed to get region from zones: ${region.message}`);
    return regionalVolumeHandle(region, pdName);
  }
  return zonalVolumeHandle(GCE_PD_UNSPECIFIED, pdName);
}

function partitionAttribute(source: GcePersistentDiskSource): Record<string, string> {
  return { partition: source.partition ? String(source.partition) : '' };
}

/**
 * The access modes the PD driver accepts for what the in-tree plugin tolerated
 * (backwardCompatibleAccessModes): ReadWriteMany counts as ReadWriteOnce, and ReadWriteOnce with
 * ReadOnlyMany as ReadWriteOnce, since the disk was always attached read-write.
 */
export function backwardCompatibleAccessModes(modes: readonly string[] | undefined): string[] | undefined {
  if (modes === undefined) return undefined;
  const seen = new Set(modes.map((mode) => (mode === 'ReadWriteMany' ? 'ReadWriteOnce' : mode)));
  if (seen.has('ReadWriteOnce')) return ['ReadWriteOnce'];
  if (seen.has('ReadOnlyMany')) return ['ReadOnlyMany'];
  return ['ReadWriteOnce'];
}

function translatePersistentVolume(pv: InTreePersistentVolume | undefined): TranslatedPersistentVolume {
  const source = pv?.spec?.gcePersistentDisk;
  if (!pv || source == null) throw new Error('pv is nil or GCE Persistent Disk source not defined on pv');
  const volumeHandle = persistentVolumeHandle(pv, source.pdName ?? '');
  const csi = csiSource({
    driver: GCE_PD_DRIVER_NAME,
    volumeHandle,
    readOnly: source.readOnly,
    fsType: source.fsType,
    volumeAttributes: partitionAttribute(source),
  });
  const copy = copyOfPersistentVolume(pv);
  translateZoneTopologyToCsi(copy, GCE_PD_TOPOLOGY_KEY);
  const translated = withCsiSource(copy, 'gcePersistentDisk', csi);
  const accessModes = backwardCompatibleAccessModes(translated.spec?.accessModes);
  if (translated.spec && accessModes) translated.spec.accessModes = accessModes;
  return translated;
}

function translateInlineVolume(volume: InTreeVolume | undefined): TranslatedPersistentVolume {
  const source = volume?.gcePersistentDisk;
  if (source == null) throw new Error('volume is nil or GCE PD not defined on volume');
  const pdName = source.pdName ?? '';
  const csi = csiSource({
    driver: GCE_PD_DRIVER_NAME,
    volumeHandle: zonalVolumeHandle(GCE_PD_UNSPECIFIED, pdName),
    readOnly: source.readOnly,
    fsType: source.fsType,
    volumeAttributes: partitionAttribute(source),
  });
  const accessMode = source.readOnly ? 'ReadOnlyMany' : 'ReadWriteOnce';
  return inlinePersistentVolume(`${GCE_PD_DRIVER_NAME}-${pdName}`, csi, [accessMode], 'Filesystem');
}

export const gcePersistentDiskPlugin: InTreePlugin = {
  inTreePluginName: GCE_PD_PLUGIN_NAME,
  csiDriverName: GCE_PD_DRIVER_NAME,
  canSupport: (pv) => pv?.spec?.gcePersistentDisk != null,
  canSupportInline: (volume) => volume?.gcePersistentDisk != null,
  translatePersistentVolume,
  translateInlineVolume,
};
