// @nodeagent/kubelet/volumes: Pod volumes: the volume manager, payload writers (secret, configMap, projected ...), fsGroup,
// hostPath checks and the mounter.
export {
  type FileProjection,
  type Payload,
  validatePayloadPath,
  writeAtomically,
} from './atomic-writer';
export {
  type FSGroupChangePolicy,
  fsGroupMode,
  podFSGroup,
  setVolumeOwnership,
} from './fs-group';
export { checkHostPath } from './host-path';
export { type Mounter, systemMounter } from './mounter';
export {
  PodVolumeManager,
  type PodVolumeManagerOptions,
  volumePluginDirs,
} from './pod-volume-manager';
export {
  defaultConfigMapMode,
  defaultDownwardAPIMode,
  defaultProjectedMode,
  defaultSecretMode,
  type PayloadContext,
  type TokenSource,
  volumePayload,
} from './volume-payloads';
