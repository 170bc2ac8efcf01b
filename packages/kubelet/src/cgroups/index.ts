// @nodeagent/kubelet/cgroups: Cgroup v1/v2 filesystems, cgroup names and the pod cgroup manager.
export * from './cgroup-errors';
export {
  type CgroupFilesystem,
  CgroupV1Filesystem,
  CgroupV2Filesystem,
  defaultCgroupMountRoot,
  detectCgroupFilesystem,
} from './cgroup-filesystem';
export * from './cgroup-name';
export * from './cgroup-resources';
export { PodCgroupManager, type PodCgroupManagerOptions } from './pod-cgroup-manager';
export { podCgroupRuntime } from './pod-cgroup-runtime';
export { type PodResourceConfigOptions, podResourceConfig } from './pod-resource-config';
