/**
 * Azure File to the Azure File CSI driver (upstream plugins/azure_file.go). The volume handle is
 * `<resource group>#<storage account>#<share>#<PV or volume name>#<secret namespace>`.
 */
import type {
  AzureFileVolumeSource,
  InTreePersistentVolume,
  InTreePlugin,
  InTreeVolume,
  TranslatedCsiSource,
  TranslatedPersistentVolume,
} from './in-tree-sources';
import {
  copyOfPersistentVolume,
  csiSource,
  inlinePersistentVolume,
  withCsiSource,
} from './translated-volume';

export const AZURE_FILE_PLUGIN_NAME = 'kubernetes.io/azure-file';
export const AZURE_FILE_DRIVER_NAME = 'file.csi.azure.com';

/** The PV annotation naming the storage account's resource group. */
export const AZURE_FILE_RESOURCE_GROUP_ANNOTATION = 'kubernetes.io/azure-file-resource-group';

const DEFAULT_SECRET_NAMESPACE = 'default';
const SECRET_NAME_FORMAT = /azure-storage-account-(.+)-secret/;

/**
 * The storage account a secret named `azure-storage-account-<account>-secret` is for; the secret's
 * whole name when it has another form (upstream logs getStorageAccountName's error and goes on).
 */
function storageAccountName(secretName: string): string {
  return SECRET_NAME_FORMAT.exec(secretName)?.[1] ?? secretName;
}

function volumeId(parts: readonly string[]): string {
  return parts.join('#');
}

function fileCsiSource(
  source: AzureFileVolumeSource,
  volumeHandle: string,
  secretNamespace: string,
): TranslatedCsiSource {
  return csiSource({
    driver: AZURE_FILE_DRIVER_NAME,
    volumeHandle,
    readOnly: source.readOnly,
    volumeAttributes: { sharename: source.shareName ?? '' },
    nodeStageSecretRef: { name: source.secretName ?? '', namespace: secretNamespace },
  });
}

/** The secret's namespace: the source's secretNamespace when set, else the claim's namespace. */
function persistentVolumeSecretNamespace(pv: InTreePersistentVolume): string {
  const secretNamespace = pv.spec?.azureFile?.secretNamespace;
  const namespace = secretNamespace != null ? secretNamespace : (pv.spec?.claimRef?.namespace ?? '');
  if (namespace === '')
    throw new Error('could not find a secret namespace in PersistentVolumeSource or ClaimRef');
  return namespace;
}

function translatePersistentVolume(pv: InTreePersistentVolume | undefined): TranslatedPersistentVolume {
  const source = pv?.spec?.azureFile;
  if (!pv || source == null) throw new Error('pv is nil or Azure File source not defined on pv');
  const resourceGroup = pv.metadata?.annotations?.[AZURE_FILE_RESOURCE_GROUP_ANNOTATION] ?? '';
  const namespace = persistentVolumeSecretNamespace(pv);
  const handle = volumeId([
    resourceGroup,
    storageAccountName(source.secretName ?? ''),
    source.shareName ?? '',
    pv.metadata?.name ?? '',
    namespace,
  ]);
  return withCsiSource(copyOfPersistentVolume(pv), 'azureFile', fileCsiSource(source, handle, namespace));
}

function translateInlineVolume(
  volume: InTreeVolume | undefined,
  podNamespace: string,
): TranslatedPersistentVolume {
  const source = volume?.azureFile;
  if (!volume || source == null) throw new Error('volume is nil or Azure File not defined on volume');
  const namespace = podNamespace !== '' ? podNamespace : DEFAULT_SECRET_NAMESPACE;
  const handle = volumeId([
    '',
    storageAccountName(source.secretName ?? ''),
    source.shareName ?? '',
    volume.name ?? '',
    namespace,
  ]);
  return inlinePersistentVolume(handle, fileCsiSource(source, handle, namespace), ['ReadWriteMany']);
}

export const azureFilePlugin: InTreePlugin = {
  inTreePluginName: AZURE_FILE_PLUGIN_NAME,
  csiDriverName: AZURE_FILE_DRIVER_NAME,
  canSupport: (pv) => pv?.spec?.azureFile != null,
  canSupportInline: (volume) => volume?.azureFile != null,
  translatePersistentVolume,
  translateInlineVolume,
};
