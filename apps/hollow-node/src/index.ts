// Public surface of @nodeagent/hollow-node: start hollow nodes in-process, parse the command line.
export {
  type ApiServerUsage,
  type ApiServerUsageSource,
  inProcessUsage,
  metricsUsage,
  parseApiServerMetrics,
} from './api-server-usage';
export { HollowNodeFlagError } from './errors';
export {
  HELP_TEXT,
  type HollowNodeCommand,
  type HollowNodeFlags,
  MAX_NODES,
  type Morph,
  parseHollowNodeFlags,
} from './hollow-flags';
export type { HollowNode } from './hollow-node';
export type { HollowNodesControl, HollowNodesOptions } from './hollow-nodes-options';
export type { ApiServerReport, CountsSnapshot, HollowReport, NodeCounts } from './hollow-report';
export { isHollowWorkerThread, runHollowWorker } from './hollow-worker';
export { hollowUserAgent } from './node-identity';
export type { NodeBytes, NodeSocketTotals } from './node-sockets';
export { type CountingSide, type NodeRequests, RequestCounter } from './request-counter';
export type { RestartWaveReport } from './restart-waves';
export { type HollowCluster, runHollowNodes } from './run-hollow-nodes';
