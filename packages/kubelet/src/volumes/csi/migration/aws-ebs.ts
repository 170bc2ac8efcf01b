/** AWS Elastic Block Store to the EBS CSI driver (upstream plugins/aws_ebs.go). */
import { goUrlPath } from './go-url-parse';
import type {
  AwsElasticBlockStoreSource,
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

export const AWS_EBS_PLUGIN_NAME = 'kubernetes.io/aws-ebs';
export const AWS_EBS_DRIVER_NAME = 'ebs.csi.aws.com';
export const AWS_EBS_TOPOLOGY_KEY = `topology.${AWS_EBS_DRIVER_NAME}/zone`;

const EBS_VOLUME_ID = /^vol-[^/]*$/;

/**
 * The EBS volume ID (`vol-…`) of a Kubernetes volume ID, which may also be `aws://<zone>/vol-…`
 * or `aws:///vol-…`; an ID without the `aws://` prefix is taken as it is
 * (KubernetesVolumeIDToEBSVolumeID). Returns upstream's error for a URL it refuses.
 */
export function kubernetesVolumeIdToEbsVolumeId(kubernetesId: string): string | Error {
  if (!kubernetesId.startsWith('aws://')) return kubernetesId;
  const path = goUrlPath(kubernetesId);
  if (path instanceof Error) return new Error(`Invalid disk name (${kubernetesId}): ${path.message}`);
  const awsId = path.replace(/^\/+|\/+$/g, '');
  if (!EBS_VOLUME_ID.test(awsId)) return new Error(`Invalid format for AWS volume (${kubernetesId})`);
  return awsId;
}

function ebsCsiSource(source: AwsElasticBlockStoreSource): TranslatedCsiSource {
  const volumeHandle = kubernetesVolumeIdToEbsVolumeId(source.volumeID ?? '');
  if (volumeHandle instanceof Error) {
    throw new Error(`failed to translate Kubernetes ID to EBS Volume ID ${volumeHandle.message}`);
  }
  return csiSource({
    driver: AWS_EBS_DRIVER_NAME,
    volumeHandle,
    readOnly: source.readOnly,
    fsType: source.fsType,
    volumeAttributes: { partition: String(source.partition ?? 0) },
  });
}

function translatePersistentVolume(pv: InTreePersistentVolume | undefined): TranslatedPersistentVolume {
  const source = pv?.spec?.awsElasticBlockStore;
  if (!pv || source == null) throw new Error('pv is nil or AWS EBS not defined on pv');
  const csi = ebsCsiSource(source);
  const copy = copyOfPersistentVolume(pv);
  translateZoneTopologyToCsi(copy, AWS_EBS_TOPOLOGY_KEY);
  return withCsiSource(copy, 'awsElasticBlockStore', csi);
}

function translateInlineVolume(volume: InTreeVolume | undefined): TranslatedPersistentVolume {
  const source = volume?.awsElasticBlockStore;
  if (source == null) throw new Error('volume is nil or AWS EBS not defined on volume');
  const csi = ebsCsiSource(source);
  return inlinePersistentVolume(`${AWS_EBS_DRIVER_NAME}-${csi.volumeHandle}`, csi, ['ReadWriteOnce']);
}

export const awsElasticBlockStorePlugin: InTreePlugin = {
  inTreePluginName: AWS_EBS_PLUGIN_NAME,
  csiDriverName: AWS_EBS_DRIVER_NAME,
  canSupport: (pv) => pv?.spec?.awsElasticBlockStore != null,
  canSupportInline: (volume) => volume?.awsElasticBlockStore != null,
  translatePersistentVolume,
  translateInlineVolume,
};
