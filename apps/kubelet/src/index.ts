// Public surface of nodeagent-kubelet: flag parsing, for tools that embed or wrap the binary.
export {
  parseBoolFlag,
  parseEvictionFlag,
  parseIntFlag,
  parseListFlag,
  parseMapFlag,
  parseTaintsFlag,
  type TaintFlag,
} from './flag-values';
export {
  type KubeletFlags,
  kubeletCommand,
  type ResolvedKubeletOptions,
  resolveKubeletOptions,
} from './kubelet-flags';
export { goArch, KUBERNETES_VERSION, packageVersion, rawVersionText, versionText } from './version';
