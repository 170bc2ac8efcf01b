// @nodeagent/kubelet/logs: Container log files: rotation policy, the log manager and rotated-file naming.
export {
  ContainerLogManager,
  type ContainerLogManagerOptions,
  type LogRotationRuntime,
} from '../logs/container-log-manager';
export { reportingContainerStarts } from '../logs/container-start-hook';
export { type LogRotatePolicy, LogRotationConfigError, logRotatePolicy } from '../logs/log-rotate-policy';
export { allContainerLogs, rotationTimestamp } from '../logs/rotated-log-files';
