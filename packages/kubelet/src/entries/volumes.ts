// @nodeagent/kubelet/volumes: Pod volumes: the volume manager, payload writers (secret, configMap, projected ...), fsGroup,
// hostPath checks and the mounter; the paths of a pod's directories under --root-dir.
export {
  podContainerDir,
  podDir,
  podPluginsDir,
  podsDir,
  podVolumeDevicesDir,
  podVolumesDir,
} from '../pod-dirs';
export {
  type FileProjection,
  type Payload,
  validatePayloadPath,
  writeAtomically,
} from '../volumes/atomic-writer';
export type { BoundTokenRequest } from '../volumes/bound-token-cache';
export {
  apiCsiNodeInfo,
  type CsiNodeObject,
  type CsiNodeRequests,
  TopologyLabelCollisionError,
} from '../volumes/csi/api-csi-node-info';
export { apiCsiStorageObjects, type CsiStorageRequests } from '../volumes/csi/api-csi-storage-objects';
export { type CsiDriver, CsiDrivers } from '../volumes/csi/csi-drivers';
export {
  attachFailedResourceExhausted,
  CsiExhaustedResource,
  type CsiExhaustedResourceOptions,
  GRPC_RESOURCE_EXHAUSTED,
} from '../volumes/csi/csi-exhausted-resource';
export {
  type CsiDriverWatch,
  CsiNodeAllocatableUpdater,
  type CsiNodeAllocatableUpdaterOptions,
} from '../volumes/csi/csi-node-allocatable-updater';
export type { ClaimStatusWriter } from '../volumes/csi/csi-node-expansion';
export type { CsiNodeDriver, CsiNodeInfo } from '../volumes/csi/csi-node-info';
export {
  CsiNodeInitialization,
  type CsiNodeInitializationOptions,
  type CsiNodeInitializer,
} from '../volumes/csi/csi-node-initialization';
export type { CsiSecretReader, CsiSecretReference } from '../volumes/csi/csi-secrets';
export type {
  CsiTokenRequest,
  CsiTokenRequester,
  CsiTokenStatus,
} from '../volumes/csi/csi-service-account-tokens';
export type {
  ClaimCondition,
  ClaimObject,
  ClaimStatus,
  CsiDriverObject,
  CsiStorageObjects,
  NodeVolumesObject,
  PersistentVolumeObject,
  VolumeAttachmentObject,
} from '../volumes/csi/csi-storage-objects';
export {
  CSI_POD_VOLUME_DIR,
  csiPublishPath,
  csiStagingPath,
  inlineVolumeHandle,
} from '../volumes/csi/csi-volume-paths';
export type { CsiVolumeUsage } from '../volumes/csi/csi-volume-stats';
export type {
  ClaimVolumeStats,
  CsiClaim,
  CsiVolumes,
  InTreeClaim,
  VolData,
} from '../volumes/csi/csi-volumes';
export type { PodClaimReference } from '../volumes/csi/generic-ephemeral-volumes';
export {
  MIGRATED_PLUGINS_ANNOTATION,
  withMigrationAnnotation,
} from '../volumes/csi/migrated-plugins-annotation';
export {
  isMigratedInline,
  migratedInTreePluginNames,
  migratedPersistentVolume,
  translateMigratedInline,
} from '../volumes/csi/migration/migrated-volumes';
export type { FlexRunner } from '../volumes/flex/flex-driver-call';
export {
  type FSGroupChangePolicy,
  fsGroupMode,
  podFSGroup,
  setVolumeOwnership,
} from '../volumes/fs-group';
export { checkHostPath } from '../volumes/host-path';
export {
  initialMountRetryMs,
  MountBackOff,
  maxMountRetryMs,
  mountKey,
} from '../volumes/mount-backoff';
export { type Mounter, systemMounter } from '../volumes/mounter';
export { mountNfs, type NfsMounter, systemNfsMounter } from '../volumes/nfs-mount';
export {
  PodVolumeManager,
  type PodVolumeManagerOptions,
  volumePluginDirs,
} from '../volumes/pod-volume-manager';
export { ApiServiceAccountTokens, type ServiceAccountTokenRequests } from '../volumes/service-account-tokens';
export {
  defaultConfigMapMode,
  defaultDownwardAPIMode,
  defaultProjectedMode,
  defaultSecretMode,
  type PayloadContext,
  type TokenSource,
  volumePayload,
} from '../volumes/volume-payloads';
export {
  csiDriverMissingMessage,
  noPluginMessage,
  type VolumeSourceHandling,
  type VolumeSourceKey,
  volumeSourceHandling,
  volumeSourceKeys,
  volumeSources,
} from '../volumes/volume-sources';
export {
  PodVolumesNotReadyError,
  unableToMountMessage,
  VolumeAttachLimitExceededError,
  volumeAttachmentLimitExceededReason,
} from '../volumes/volumes-not-ready';
