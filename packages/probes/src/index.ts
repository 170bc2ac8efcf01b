// Public surface of @nodeagent/probes.
export { ConcurrencyLimiter } from './concurrency-limiter';
export {
  ExecTimeoutError,
  InvalidProbeError,
  isInvalidProbeError,
  isPortNotFoundError,
  PortNotFoundError,
  ProbeError,
} from './errors';
export { type ExecProbeExecutor, type ExecResult, runExecProbe } from './exec-probe';
export {
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  HEALTH_CHECK_METHOD,
  SERVING_STATUS_NAMES,
  type ServingStatus,
} from './grpc-health-codec';
export { type GrpcProbeRequest, runGrpcProbe } from './grpc-probe';
export { type HttpProbeRequest, runHttpProbe } from './http-probe';
export { limitOutput } from './limit-output';
export { type NormalizedProbe, normalizeProbe, type ProbeHandler } from './normalize-probe';
export * from './probe-defaults';
export {
  type ContainerStateInput,
  KUBELET_RESTART_GRACE_MS,
  type ProbedContainer,
  ProbeManager,
  type ProbeManagerOptions,
} from './probe-manager';
export type {
  ContainerPortSpec,
  ExecActionSpec,
  GRPCActionSpec,
  HTTPGetActionSpec,
  HTTPHeaderSpec,
  ProbeResult,
  ProbeRunOutcome,
  ProbeRunResult,
  ProbeSpec,
  ProbeType,
  TCPSocketActionSpec,
} from './probe-types';
export {
  type ContainerState,
  type ProbeRunEvent,
  ProbeWorker,
  type ProbeWorkerOptions,
} from './probe-worker';
export { resolveContainerPort } from './resolve-port';
export { type ProbeResultListener, type ProbeResultUpdate, ResultsManager } from './results-manager';
export { type ProbeTarget, runProbe } from './run-probe';
export { runTcpProbe } from './tcp-probe';
