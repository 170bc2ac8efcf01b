/** OpenStack Cinder to the Cinder CSI driver (upstream plugins/openstack_cinder.go). */
import type {
  CinderSource,
  InTreePersistentVolume,
  InTreePlugin,
  InTreeVolume,
  TranslatedCsiSource,
  TranslatedPersistentVolume,
} from './in-tree-sources';
import { translateZoneTopologyToCsi } from './in-tree-topology';
import {
  copyOfPersistentVolume,
  csiSource,
  inlinePersistentVolume,
  withCsiSource,
} from './translated-volume';

export const CINDER_PLUGIN_NAME = 'kubernetes.io/cinder';
export const CINDER_DRIVER_NAME = 'cinder.csi.openstack.org';
export const CINDER_TOPOLOGY_KEY = 'topology.cinder.csi.openstack.org/zone';

function cinderCsiSource(source: CinderSource): TranslatedCsiSource {
  return csiSource({
    driver: CINDER_DRIVER_NAME,
    volumeHandle: source.volumeID ?? '',
    readOnly: source.readOnly,
    fsType: source.fsType,
    volumeAttributes: {},
  });
}

function translatePersistentVolume(pv: InTreePersistentVolume | undefined): TranslatedPersistentVolume {
  const source = pv?.spec?.cinder;
  if (!pv || source == null) throw new Error('pv is nil or Cinder not defined on pv');
  const copy = copyOfPersistentVolume(pv);
  translateZoneTopologyToCsi(copy, CINDER_TOPOLOGY_KEY);
  return withCsiSource(copy, 'cinder', cinderCsiSource(source));
}

function translateInlineVolume(volume: InTreeVolume | undefined): TranslatedPersistentVolume {
  const source = volume?.cinder;
  if (source == null) throw new Error('volume is nil or Cinder not defined on volume');
  const name = `${CINDER_DRIVER_NAME}-${source.volumeID ?? ''}`;
  return inlinePersistentVolume(name, cinderCsiSource(source), ['ReadWriteOnce']);
}

export const openStackCinderPlugin: InTreePlugin = {
  inTreePluginName: CINDER_PLUGIN_NAME,
  csiDriverName: CINDER_DRIVER_NAME,
  canSupport: (pv) => pv?.spec?.cinder != null,
  canSupportInline: (volume) => volume?.cinder != null,
  translatePersistentVolume,
  translateInlineVolume,
};
