// Public surface of nodeagent-kubelet: flag parsing, for tools that embed or wrap the binary.
export {
  CommandLineError,
  MissingFlagValueError,
  UnexpectedArgumentError,
  UnknownFlagError,
  UnreadableFileError,
} from './command-line-errors';
export {
  parseBoolFlag,
  parseEvictionFlag,
  parseIntFlag,
  parseKubeletFlagValue,
  parseListFlag,
  parseMapFlag,
  parseTaintsFlag,
  type TaintFlag,
} from './flag-values';
export {
  KUBELET_FLAGS,
  type KubeletFlagSpec,
  type KubeletFlagType,
  kubeletFlagSpec,
} from './kubelet-flag-table';
export {
  type KubeletFlags,
  kubeletHelpText,
  type NoEffectFlag,
  type ParsedCommandLine,
  parseKubeletCommandLine,
  type ResolvedKubeletOptions,
  resolveKubeletOptions,
} from './kubelet-flags';
export { goArch, KUBERNETES_VERSION, packageVersion, rawVersionText, versionText } from './version';
