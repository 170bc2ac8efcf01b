/** Portworx volumes to the Portworx CSI driver (upstream plugins/portworx.go). */
import type { CsiSecretReference } from '../csi-secrets';
import type {
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

export const PORTWORX_PLUGIN_NAME = 'kubernetes.io/portworx-volume';
export const PORTWORX_DRIVER_NAME = 'pxd.portworx.com';

/** The PV annotations naming the secret the driver authenticates with. */
export const OPENSTORAGE_AUTH_SECRET_NAME = 'openstorage.io/auth-secret-name';
export const OPENSTORAGE_AUTH_SECRET_NAMESPACE = 'openstorage.io/auth-secret-namespace';

/** The auth secret, when the PV has both annotations (either may be empty). */
function authSecret(pv: InTreePersistentVolume): CsiSecretReference | undefined {
  const annotations = pv.metadata?.annotations;
  if (
    annotations === undefined ||
    !Object.hasOwn(annotations, OPENSTORAGE_AUTH_SECRET_NAME) ||
    !Object.hasOwn(annotations, OPENSTORAGE_AUTH_SECRET_NAMESPACE)
  ) {
    return undefined;
  }
  return {
    name: annotations[OPENSTORAGE_AUTH_SECRET_NAME],
    namespace: annotations[OPENSTORAGE_AUTH_SECRET_NAMESPACE],
  };
}

/** Upstream carries neither the source's readOnly nor, for a PV, its access to the CSI source. */
function translatePersistentVolume(pv: InTreePersistentVolume | undefined): TranslatedPersistentVolume {
  const source = pv?.spec?.portworxVolume;
  if (!pv || source == null) throw new Error('pv is nil or PortworxVolume not defined on pv');
  const secret = authSecret(pv);
  const csi = csiSource({
    driver: PORTWORX_DRIVER_NAME,
    volumeHandle: source.volumeID ?? '',
    fsType: source.fsType,
    controllerPublishSecretRef: secret,
    nodeStageSecretRef: secret,
    nodePublishSecretRef: secret,
    controllerExpandSecretRef: secret,
    nodeExpandSecretRef: secret,
  });
  return withCsiSource(copyOfPersistentVolume(pv), 'portworxVolume', csi);
}

function translateInlineVolume(volume: InTreeVolume | undefined): TranslatedPersistentVolume {
  const source = volume?.portworxVolume;
  if (source == null) throw new Error('volume is nil or PortworxVolume not defined on volume');
  const volumeId = source.volumeID ?? '';
  const csi = csiSource({ driver: PORTWORX_DRIVER_NAME, volumeHandle: volumeId, fsType: source.fsType });
  const accessMode = source.readOnly ? 'ReadOnlyMany' : 'ReadWriteOnce';
  return inlinePersistentVolume(`${PORTWORX_DRIVER_NAME}-${volumeId}`, csi, [accessMode]);
}

export const portworxVolumePlugin: InTreePlugin = {
  inTreePluginName: PORTWORX_PLUGIN_NAME,
  csiDriverName: PORTWORX_DRIVER_NAME,
  canSupport: (pv) => pv?.spec?.portworxVolume != null,
  canSupportInline: (volume) => volume?.portworxVolume != null,
  translatePersistentVolume,
  translateInlineVolume,
};
