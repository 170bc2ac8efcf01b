// @nodeagent/kubelet/logs: Container log files: rotation policy, the log manager and rotated-file naming.
export {
  ContainerLogManager,
  type ContainerLogManagerOptions,
  type LogRotationRuntime,
} from './container-log-manager';
export { type LogRotatePolicy, LogRotationConfigError, logRotatePolicy } from './log-rotate-policy';
export { allContainerLogs, rotationTimestamp } from './rotated-log-files';
