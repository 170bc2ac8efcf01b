// nodeagent-demo: the node in a box behind `npm start`. Exported for the end-to-end test and for
// anyone embedding the show.
export { type ClusterView, clusterView, readyEndpointPods, renderClusterView, viewOf } from './cluster-view';
export {
  type Answer,
  everyPodAnswered,
  type Fetcher,
  fetchRepeatedly,
  netnsFetcher,
  tallyAnswers,
} from './data-path';
export { type DemoIO, type DemoResult, NODE_NAME, type RunDemoDeps, runDemo, SERVICE_NAME } from './demo';
export { type DemoOptions, demoUsage, type ProxyMode, parseDemoOptions } from './demo-options';
export {
  AlreadyRunningError,
  ChildExitedError,
  DemoError,
  InvalidArgumentError,
  PrerequisiteError,
  StepTimeoutError,
} from './errors';
export {
  type DemoKubeletSettings,
  demoKubeletConfiguration,
  renderKubeletConfiguration,
} from './kubelet-config';
export { missingPrerequisites, type PrerequisiteInputs, systemPrerequisiteInputs } from './prerequisites';
export { acquireRunLock, defaultLockPath, type RunLock } from './run-lock';
export { applyWorkload, loadWorkload, readWorkload, type WorkloadSettings, workloadPath } from './workload';
