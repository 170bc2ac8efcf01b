// Public surface of @nodeagent/node-status: the node status reporter, the lease controller,
// registration and the configuration they share. The Node object's building blocks are at
// `@nodeagent/node-status/node-object`, machine reading at `/machine`, all errors at `/errors`.

export { type CapacityInputs, computeCapacity, type ResourceList } from './capacity';
export {
  DECLARED_FEATURES_V136,
  declaredFeatures,
  NODE_DECLARED_FEATURES_GATE,
} from './declared-features';
export { MachineInfoError, NodeStatusError } from './errors';
export { evaluateReadyChecks, type ReadyCheck, type ReadyVerdict } from './health-checks';
export { hostMachineSource, type MachineInfo, type MachineSource, readMachineInfo } from './machine-info';
export { NodeLeaseController, type NodeLeaseControllerOptions } from './node-lease-controller';
export { defaultLabels } from './node-object';
export { type RegistrationOutcome, registerNodeWithRetry, tryRegisterNode } from './node-registrar';
export { nodeImagesFromCri } from './node-status-body';
export {
  DEFAULT_EVICTION_HARD,
  NODE_LEASE_NAMESPACE,
  type NodeStatusConfig,
  type ResolvedNodeStatusConfig,
  resolveNodeStatusConfig,
} from './node-status-config';
export {
  NodeStatusReporter,
  type NodeStatusReporterOptions,
  type PressureSignals,
} from './node-status-reporter';
export { networkReadyCheck, plegHealthCheck, runtimeReachableCheck } from './ready-checks';
export {
  type CriStatusFeatures,
  type RuntimeHandlerInfo,
  type RuntimeStatusFeatures,
  runtimeStatusFromCri,
} from './runtime-handlers';
export { containerRuntimeVersion, formatRuntimeVersion } from './runtime-version';
export { Sleeper } from './scheduler';
