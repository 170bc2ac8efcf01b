// @nodeagent/testing/netns: network-namespace helpers for tests (namespaces, veth pairs, host leak
// checks, stale cleanup): see README.md, section "Network namespaces".

// A failed ip/nsenter command; the class lives in primitives, the old name keeps working.
export { CommandFailedError as NetnsCommandError } from '@nodeagent/primitives';
export { bridgeIntoNetns, type NetnsTcpBridge } from './api-bridge';
export { type CgroupMount, cgroupDirs, parseCgroupMounts } from './cgroup-mounts';
export { InvalidNetnsNameError } from './errors';
export {
  assertNoHostLeaks,
  describeLeaks,
  diffHostSnapshots,
  HostLeakError,
  type HostLeaks,
  type HostSnapshot,
  hasLeaks,
  type LeakCheckOptions,
  listContainerCgroups,
  listTempLoopDevices,
  parseLinkNames,
  parseRelevantMounts,
  takeHostSnapshot,
} from './host-snapshot';
export { listenInNetns, NetnsListenError } from './listen-in-netns';
export { type MountinfoEntry, parseMountinfo } from './mountinfo';
export {
  assertIfName,
  assertNetnsName,
  creatorPidOf,
  NETNS_PREFIX,
  type UniqueNameOptions,
  uniqueIfName,
  uniqueNetnsName,
} from './names';
export {
  type CreateNetnsOptions,
  createNetns,
  deleteNetns,
  listNetns,
  NETNS_RUN_DIR,
  type Netns,
  netnsExists,
  openNetns,
} from './netns';
export { isProcessAlive } from './process-alive';
export { type CommandResult, type RunOptions, runCommand } from './run-command';
export { cleanupStaleNetns, type StaleCleanupOptions } from './stale';
export { addRoute, createVethPair, enableForwarding, type VethEnd, type VethPair } from './veth';
export { NetnsScope, withNetns, withNetnsScope } from './with-netns';
export { type HeldZombie, holdZombie } from './zombie';
