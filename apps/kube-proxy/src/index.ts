export {
  type ApiServerSource,
  apiServerConfig,
  InvalidKubeconfigError,
  NoApiServerError,
  SERVICE_ACCOUNT_TOKEN,
} from './api-server-config';
// Public surface of nodeagent-kube-proxy (the binary's pieces, for embedding and tests).
export { checkSettings, type DaemonSettings, daemonLogger, daemonSettings } from './daemon-settings';
export { type ConfigPrecedence, FLAGS, type FlagType, flagSpec } from './flag-table';
export { parseFlagValue, parseGoBool } from './flag-values';
export {
  addConfigFlags,
  CONFIG_FLAGS,
  type FlagOverlay,
  type FlagSpec,
  flagValue,
  optionName,
  overlayFlags,
} from './flags';
export { createProxyLogger, levelForVerbosity, type ProxyLoggerOptions } from './logging';
export { buildProgram, type ProgramIO } from './program';
export { IPVS_DEPRECATION_MESSAGE, logProxierChoice } from './proxier-startup-log';
export { type ClusterObjects, readObjects } from './read-objects';
export { UnreadableFileError } from './readable-file';
export { type RenderOptions, renderRuleset } from './render';
export {
  applyPlatformDefaults,
  type ResolvedConfiguration,
  type ResolveOptions,
  resolveConfiguration,
} from './resolve-configuration';
export {
  familiesFor,
  nodeNameFor,
  type RunningProxy,
  type RunProxyOptions,
  runProxy,
  type StopOptions,
} from './run-proxy';
export { goArch, KUBERNETES_VERSION, packageVersion, rawVersionText, versionText } from './version';
