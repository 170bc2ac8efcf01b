// @nodeagent/kubelet/cgroups: Cgroup v1/v2 filesystems, cgroup names and the pod cgroup manager.
export * from '../cgroups/cgroup-errors';
export {
  type CgroupFilesystem,
  CgroupV1Filesystem,
  CgroupV2Filesystem,
  defaultCgroupMountRoot,
  detectCgroupFilesystem,
} from '../cgroups/cgroup-filesystem';
export * from '../cgroups/cgroup-name';
export {
  type CgroupHierarchy,
  moveProcessToCgroup,
  type ProcsWriter,
} from '../cgroups/cgroup-process-move';
export * from '../cgroups/cgroup-resources';
export {
  type DbusCall,
  DbusCallError,
  DbusConnection,
  DbusConnectionError,
  type DbusConnectionOptions,
} from '../cgroups/dbus-connection';
export type { DbusValue, DbusVariant } from '../cgroups/dbus-marshal';
export { type DbusMessage, MessageType, type MessageTypeCode } from '../cgroups/dbus-message';
export {
  type DriverCgroupFilesystemOptions,
  driverCgroupFilesystem,
} from '../cgroups/driver-cgroup-filesystem';
export { defaultProcRoot } from '../cgroups/host-processes';
export type { ProcessCgroupLogger, ProcessCgroupOptions } from '../cgroups/kubelet-process-cgroup';
export * from '../cgroups/memory-qos';
export { detectNodeSwap, type NodeSwapSources, swapTotalBytes } from '../cgroups/node-swap';
export { PodCgroupManager, type PodCgroupManagerOptions } from '../cgroups/pod-cgroup-manager';
export { podCgroupRuntime } from '../cgroups/pod-cgroup-runtime';
export { type PodResourceConfigOptions, podResourceConfig } from '../cgroups/pod-resource-config';
export { type QOSMemoryLimits, type QOSMemoryReserve, qosMemoryLimits } from '../cgroups/qos-memory-reserve';
export {
  ensureStatePeriodMs,
  kubeletOomScorePeriodMs,
  type SystemContainersOptions,
  startSystemContainers,
  systemCgroupsRootMessage,
} from '../cgroups/system-containers';
export { SystemdCgroupFilesystem } from '../cgroups/systemd-cgroup-filesystem';
export {
  connectSystemd,
  DbusSystemdManager,
  SystemdJobTimeoutError,
  type SystemdLocation,
  SystemdNotRunningError,
  SystemdUnreachableError,
  systemdNotRunningMessage,
} from '../cgroups/systemd-dbus';
export type { SystemdManager, UnitProperty } from '../cgroups/systemd-manager';
