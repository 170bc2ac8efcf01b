// `@nodeagent/kube-proxy/config`: the whole KubeProxyConfiguration surface (the root exports the common part).
export {
  appendPortIfNeeded,
  KUBE_PROXY_OOM_SCORE_ADJ,
  PROTOBUF_CONTENT_TYPE,
  PROXY_HEALTHZ_PORT,
  PROXY_METRICS_PORT,
  setKubeProxyConfigurationDefaults,
} from './defaults';
export {
  defaultKubeProxyConfiguration,
  effectiveProxyMode,
  IPVS_SCHEDULERS,
  isCidr,
  KUBE_PROXY_CONFIG_API_VERSION,
  KUBE_PROXY_CONFIG_KIND,
  type KubeProxyConfiguration,
  type KubeProxyConfigurationInput,
  kubeProxyConfigurationSchema,
  LOCAL_MODES,
  LOG_FORMATS,
  type LocalMode,
  type LogFormat,
  loadKubeProxyConfiguration,
  type ParseOptions,
  PROXY_MODES,
  type ProxyMode,
  parseKubeProxyConfiguration,
  validateKubeProxyConfiguration,
} from './kube-proxy-configuration';
export { type ContentTypeFields, JSON_CONTENT_TYPE, listsAsProtobuf, mediaTypes } from './list-content-type';
export {
  checkSettingSupport,
  formatSettingProblem,
  previousMinorVersion,
  SETTING_SUPPORT,
  type SettingContext,
  type SettingProblem,
  type SettingSupport,
  UnsupportedSettingsError,
} from './settings-support';
