// @nodeagent/kubelet/server: The kubelet HTTP server: routes, authn/authz, logs, exec/attach/port-forward streaming, TLS.
export {
  containerLogFile,
  followContainerLog,
  type LogOptions,
  readContainerLog,
  renderCriLog,
} from './container-logs';
export {
  createHealthzServer,
  createKubeletServer,
  type KubeletServerOptions,
  listen,
  type RunningServer,
} from './kubelet-server';
export {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthorizationAttributes,
  type Authorizer,
  alwaysAllow,
  kubeletAuthenticator,
  subjectAccessReviewAuthorizer,
  subresourceForPath,
  type UserInfo,
  verbForMethod,
} from './server-auth';
export {
  parseStreamingPath,
  portForwardPorts,
  type StreamingKind,
  type StreamingTarget,
  type StreamOptions,
  streamOptions,
} from './streaming-routes';
export {
  type AttachStreamRequest,
  criStreamingRuntime,
  type ExecStreamRequest,
  type StreamingRuntime,
} from './streaming-runtime';
export { cpuAndMemoryOnly } from './summary-filter';
export { selfSignedCertificate } from './tls-material';
export {
  proxyUpgrade,
  type StreamConnector,
  StreamingProxyError,
  writeRawResponse,
} from './upgrade-proxy';
