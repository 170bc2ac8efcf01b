// Public surface of @nodeagent/node-status.

// Thrown by computeCapacity for bad or negative reservations; the class lives in primitives.
export { InvalidQuantityError } from '@nodeagent/primitives';
export { apiReason, apiStatusCode, isAlreadyExists, isConflict, isNotFound } from './api-errors';
export { type CapacityInputs, computeCapacity, type ResourceList } from './capacity';
export { InvalidConfigError, MachineInfoError, NodeStatusError } from './errors';
export { evaluateReadyChecks, type ReadyCheck, type ReadyVerdict } from './health-checks';
export {
  countCpuList,
  goArch,
  hostMachineSource,
  type MachineInfo,
  type MachineSource,
  parseCpuMax,
  parseMemTotal,
  parseOsImage,
  type ReadMachineInfoOptions,
  readMachineInfo,
} from './machine-info';
export { type NodeAddress, nodeAddresses } from './node-addresses';
export { CONDITION_ORDER, nextConditions, type ObservedConditions } from './node-conditions';
export { NodeLeaseController, type NodeLeaseControllerOptions } from './node-lease-controller';
export {
  ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH,
  defaultLabels,
  initialNode,
  LABEL_ARCH,
  LABEL_BETA_ARCH,
  LABEL_BETA_OS,
  LABEL_HOSTNAME,
  LABEL_OS,
  reconcileExistingNode,
} from './node-object';
export { type RegistrationOutcome, registerNodeWithRetry, tryRegisterNode } from './node-registrar';
export {
  buildNodeStatus,
  type CriImageListing,
  formatTime,
  MAX_NAMES_PER_IMAGE,
  type NodeImage,
  type NodeStatusWire,
  nodeImagesFromCri,
  type RuntimeVersion,
  type StatusBodyInputs,
  statusFingerprint,
  statusPatch,
  topImages,
} from './node-status-body';
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
export { containerRuntimeVersion, formatRuntimeVersion } from './runtime-version';
export { Sleeper } from './scheduler';
