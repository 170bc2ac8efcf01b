/**
 * Every source a core/v1 Volume can name, in the API's field order (exactly one per volume, as
 * the API server validates): the kubelet classifies volumes by it, and a fake API server defaults
 * a volume that names none of them to an emptyDir.
 */
export const volumeSourceKeys = [
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
] as const;

/** The name of one core/v1 volume source. */
export type VolumeSourceKey = (typeof volumeSourceKeys)[number];
