// @nodeagent/node-status/node-object: the pieces the reporter builds a Node from: the initial
// object and its labels, reconciliation with an existing Node, the status body, its patch and
// whether the server's copy differs from it,
// conditions, addresses and images.
export { type NodeAddress, nodeAddresses } from '../node-addresses';
export {
  CONDITION_ORDER,
  type NodeConditionLike,
  nextConditions,
  type ObservedConditions,
} from '../node-conditions';
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
} from '../node-object';
export {
  buildNodeStatus,
  type CriImageListing,
  formatTime,
  MAX_NAMES_PER_IMAGE,
  type NodeConditionWire,
  type NodeImage,
  type NodeStatusWire,
  nodeImagesFromCri,
  type RuntimeVersion,
  type StatusBodyInputs,
  statusFingerprint,
  statusPatch,
  topImages,
} from '../node-status-body';
export { nodeStatusHasChanged, type ServerStatus } from '../node-status-changed';
export { type NodeRuntimeHandlerWire, runtimeStatusFields } from '../runtime-handlers';
