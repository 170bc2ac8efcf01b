// @nodeagent/kubelet/server: The kubelet HTTP server: routes, authn/authz, logs, exec/attach/port-forward streaming, TLS.
export {
  containerLogFile,
  followContainerLog,
  type LogOptions,
  readContainerLog,
  renderCriLog,
} from '../logs/container-log-text';
export { checkpointLocation, goRfc3339Local, serveCheckpoint } from '../server/checkpoint-route';
export { serveDebugFlags, setKlogVerbosity, type VerbositySetter } from '../server/debug-flags-route';
export {
  type CheckpointRequest,
  type ContainerDebugRuntime,
  criDebugRuntime,
  type ExecSyncOutput,
  negativeCheckpointTimeout,
} from '../server/debug-runtime';
export type { RequestTarget } from '../server/go-serve-mux';
export type { GoServerLimits } from '../server/go-server-limits';
export {
  createHealthzServer,
  createKubeletServer,
  type KubeletServerOptions,
  listen,
  type RunningServer,
} from '../server/kubelet-server';
export {
  loadOrWriteSelfSignedServingFiles,
  type SelfSignedServingFiles,
  SelfSignedServingFilesError,
  type SelfSignedServingFilesOptions,
} from '../server/self-signed-serving-files';
export {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthorizationAttributes,
  type Authorizer,
  alwaysAllow,
  kubeletAuthenticator,
  subjectAccessReviewAuthorizer,
  subresourcesForPath,
  type UserInfo,
  verbForMethod,
} from '../server/server-auth';
export {
  type ServingTlsSettings,
  servingTlsSettings,
  type TlsConfigurationFields,
} from '../server/serving-tls-settings';
export {
  parseStreamingPath,
  portForwardPorts,
  type StreamingKind,
  type StreamingTarget,
  type StreamOptions,
  streamOptions,
} from '../server/streaming-routes';
export {
  type AttachStreamRequest,
  criStreamingRuntime,
  type ExecStreamRequest,
  type StreamingRuntime,
} from '../server/streaming-runtime';
export { cpuAndMemoryOnly } from '../server/summary-filter';
export type { SystemLogOptions } from '../server/system-logs-route';
export { selfSignedCertificate } from '../server/tls-material';
export {
  proxyUpgrade,
  type StreamConnector,
  StreamingProxyError,
  writeRawResponse,
} from '../server/upgrade-proxy';
