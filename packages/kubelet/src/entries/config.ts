// @nodeagent/kubelet/config: KubeletConfiguration: schema, defaults, drop-ins, file loading, eviction thresholds, field
// support, the data directories laid out under --root-dir and the process's open-files limit (maxOpenFiles).

export {
  applyMaxOpenFiles,
  libcSetOpenFilesLimit,
  type OpenFilesLimit,
  type OpenFilesLimitDeps,
  parseOpenFilesLimit,
  type SetOpenFilesLimit,
  setOpenFilesLimitFailedMessage,
} from '../cgroups/open-files-limit';
export {
  listDropInFiles,
  mergeConfigurationDropIns,
  mergeConfigurationPatch,
} from '../config/config-drop-ins';
export { contentTypeIsProtobuf, PROTOBUF_MEDIA_TYPE } from '../config/content-type';
export {
  type EvictionSignal,
  type EvictionThreshold,
  evictionSignals,
  parseEvictionThresholds,
  type ThresholdValue,
  thresholdMet,
} from '../config/eviction-thresholds';
export {
  type FieldSupport,
  kubeletConfigurationFieldSupport,
  type UnsupportedFieldWarning,
  unsupportedFieldWarnings,
} from '../config/field-support';
export {
  buildKubeletConfigurationSchema,
  defaultEvictionHard,
  defaultKubeletConfiguration,
  type KubeletConfiguration,
  type KubeletConfigurationInput,
  type KubeletConfigurationSchema,
  kubeletConfigurationApiVersion,
  kubeletConfigurationKind,
  type ParsedKubeletConfiguration,
  type ParseKubeletConfigurationOptions,
  parseKubeletConfiguration,
} from '../config/kubelet-configuration';
export {
  applyConfigurationOverrides,
  decodeKubeletConfigurationText,
  loadKubeletConfigurationFile,
  parseKubeletConfigurationText,
  readKubeletConfigurationFile,
} from '../config/load-config-file';
export { parseQOSReserved, type QOSReserved } from '../config/qos-reserved';
export { applyV1beta1ZeroDefaults } from '../config/v1beta1-defaults';
export { DataDirSetupError, dataDirMode, setupDataDirs } from '../data-dirs';
