// Public surface of @nodeagent/cri-client: the client, its errors and the streaming helpers. The
// generated runtime.v1 messages are at `@nodeagent/cri-client/types`, the fake runtime at `/testing`.

export { type CliIo, runCli } from './cli/run-cli';
export {
  type CallOptions,
  CriClient,
  type CriClientOptions,
  createCriClient,
  DEFAULT_PULL_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  KUBE_RUNTIME_API_VERSION,
  MAX_MESSAGE_BYTES,
} from './cri-client';
export {
  CriError,
  grpcCodeName,
  InvalidArgumentError,
  isAlreadyExists,
  isCancelled,
  isCriError,
  isDeadlineExceeded,
  isInvalidArgument,
  isNotFound,
  isUnavailable,
  isUnimplemented,
  RuntimeUnreachableError,
  toCriError,
  UnsupportedRuntimeApiError,
} from './cri-error';
export { type CriLogLine, parseCriLogLine } from './cri-log';
export { DEFAULT_CRI_ENDPOINT, grpcTarget } from './endpoint';
export { openPortForward } from './streaming/port-forward';
export {
  collectStream,
  exitFromStatus,
  type OpenStreamOptions,
  openStream,
  STREAM_PROTOCOLS,
  StreamChannel,
  type StreamExit,
  type StreamSession,
  type V4Status,
} from './streaming/stream-session';
export { type StreamConnector, StreamingError, tcpConnector } from './streaming/websocket-client';
export { GrpcCallError, type UnaryCallOptions } from './unary-channel';
export type { UnaryTransport } from './unary-transport';
