/** vSphere virtual disks to the vSphere CSI driver (upstream plugins/vsphere_volume.go). */
import type {
  InTreePersistentVolume,
  InTreePlugin,
  InTreeVolume,
  TranslatedPersistentVolume,
} from './in-tree-sources';
import { addTopology, pvLabel, replaceTopology, topologyLabelKeys, topologyValues } from './in-tree-topology';
import {
  copyOfPersistentVolume,
  csiSource,
  inlinePersistentVolume,
  withCsiSource,
} from './translated-volume';

export const VSPHERE_PLUGIN_NAME = 'kubernetes.io/vsphere-volume';
export const VSPHERE_DRIVER_NAME = 'csi.vsphere.vmware.com';
export const VSPHERE_TOPOLOGY_ZONE_KEY = 'topology.csi.vmware.com/zone';
export const VSPHERE_TOPOLOGY_REGION_KEY = 'topology.csi.vmware.com/region';

const STORAGE_POLICY_NAME = 'storagepolicyname';

/**
 * The message of the Go runtime's panic: upstream's inline translation reads the storage policy
 * from the new PV's (nil) vSphere source, so a volume naming a policy panics there.
 */
export const NIL_POINTER_DEREFERENCE = 'runtime error: invalid memory address or nil pointer dereference';

/** One topology key renamed to the driver's, or added from the PV's label (taken whole, not split). */
function translateTopologyKey(pv: InTreePersistentVolume, labelKey: string, csiKey: string): void {
  if (topologyValues(pv, labelKey).length > 0) {
    replaceTopology(pv, labelKey, csiKey);
    return;
  }
  const label = pvLabel(pv, labelKey);
  if (label) addTopology(pv, csiKey, [label]);
}

/** translateTopologyFromInTreevSphereToCSI: both zone and region go to the driver's keys. */
function translateVsphereTopologyToCsi(pv: InTreePersistentVolume): void {
  const keys = topologyLabelKeys(pv);
  translateTopologyKey(pv, keys.zone, VSPHERE_TOPOLOGY_ZONE_KEY);
  translateTopologyKey(pv, keys.region, VSPHERE_TOPOLOGY_REGION_KEY);
}

function translatePersistentVolume(pv: InTreePersistentVolume | undefined): TranslatedPersistentVolume {
  const source = pv?.spec?.vsphereVolume;
  if (!pv || source == null) throw new Error('pv is nil or VsphereVolume not defined on pv');
  const policy = source.storagePolicyName ?? '';
  const csi = csiSource({
    driver: VSPHERE_DRIVER_NAME,
    volumeHandle: source.volumePath ?? '',
    fsType: source.fsType,
    volumeAttributes: policy !== '' ? { [STORAGE_POLICY_NAME]: policy } : {},
  });
  const copy = copyOfPersistentVolume(pv);
  translateVsphereTopologyToCsi(copy);
  return withCsiSource(copy, 'vsphereVolume', csi);
}

function translateInlineVolume(volume: InTreeVolume | undefined): TranslatedPersistentVolume {
  const source = volume?.vsphereVolume;
  if (source == null) throw new Error('volume is nil or VsphereVolume not defined on volume');
  if ((source.storagePolicyName ?? '') !== '') throw new Error(NIL_POINTER_DEREFERENCE);
  const volumePath = source.volumePath ?? '';
  const csi = csiSource({ driver: VSPHERE_DRIVER_NAME, volumeHandle: volumePath, fsType: source.fsType });
  return inlinePersistentVolume(`${VSPHERE_DRIVER_NAME}-${volumePath}`, csi, ['ReadWriteOnce']);
}

export const vsphereVolumePlugin: InTreePlugin = {
  inTreePluginName: VSPHERE_PLUGIN_NAME,
  csiDriverName: VSPHERE_DRIVER_NAME,
  canSupport: (pv) => pv?.spec?.vsphereVolume != null,
  canSupportInline: (volume) => volume?.vsphereVolume != null,
  translatePersistentVolume,
  translateInlineVolume,
};
