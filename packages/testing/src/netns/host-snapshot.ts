import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupDirs, parseCgroupMounts } from './cgroup-mounts';
import { parseMountinfo } from './mountinfo';
import { listNetns, NETNS_RUN_DIR } from './netns';
import { runCommand } from './run-command';

/**
 * What a test run could leave behind in the host: namespaces, host links, netns/overlay mounts
 * and mounts under the temp directory, containers' cgroups, and loop devices over files in the
 * temp directory.
 */
export interface HostSnapshot {
  netns: string[];
  links: string[];
  mounts: string[];
  /** containerd's per-container cgroups and their `/k8s.io` parent (listContainerCgroups). */
  cgroups: string[];
  /** Loop devices whose backing file is in the temp directory, as "<device> <backing file>" (listTempLoopDevices). */
  loopDevices: string[];
}

export interface HostLeaks extends HostSnapshot {}

/** Parse `ip -o link` output into interface names ("veth1@if5" → "veth1"). */
export function parseLinkNames(output: string): string[] {
  const names: string[] = [];
  for (const line of output.split('\n')) {
    const match = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (match?.[1]) names.push(match[1]);
  }
  return names;
}

/**
 * Mounts that belong to namespaces or container layers, or lie in the temp directory `tempDir`
 * where tests keep their files (a kubelet's volume mounts and binds), as "<fstype> <mountpoint>",
 * from /proc/self/mountinfo. The /run/netns directory's own mount is left out: `ip netns add`
 * makes it once per boot and it is shared by everyone, so it is not a leak.
 */
export function parseRelevantMounts(mountinfo: string, tempDir: string = tmpdir()): string[] {
  const mounts: string[] = [];
  for (const { point, fsType } of parseMountinfo(mountinfo)) {
    const isNetns = fsType === 'nsfs' || point.startsWith(`${NETNS_RUN_DIR}/`);
    if (isNetns || fsType === 'overlay' || point.startsWith(`${tempDir}/`)) mounts.push(`${fsType} ${point}`);
  }
  return mounts;
}

/**
 * Loop devices set up over files in `tempDir` (a test's disk image, a kubelet's hold on a block
 * volume), as "<device> <backing file>", from the kernel's `<sysBlock>/loopN/loop/backing_file`.
 */
export async function listTempLoopDevices(
  tempDir: string = tmpdir(),
  sysBlock = '/sys/block',
): Promise<string[]> {
  const devices: string[] = [];
  for (const name of await readdir(sysBlock).catch(() => [] as string[])) {
    if (!name.startsWith('loop')) continue;
    const backing = await readFile(join(sysBlock, name, 'loop', 'backing_file'), 'utf8').catch(
      () => undefined,
    );
    const file = backing?.trim().replace(/ \(deleted\)$/, '');
    if (file?.startsWith(`${tempDir}/`)) devices.push(`/dev/${name} ${file}`);
  }
  return devices;
}

/**
 * The cgroups containerd makes with the cgroupfs driver for containers given no parent
 * (`/k8s.io/<id>`), and that `/k8s.io` parent itself, as "<dir>" in each mounted hierarchy. runc
 * removes a container's cgroup when its task is deleted, so one that outlives a run outlived its
 * container's teardown; runc makes the parent along with the first container's and never removes
 * it, so a parent that was not there before the run is the run's too.
 */
export async function listContainerCgroups(mountinfo: string): Promise<string[]> {
  const cgroups: string[] = [];
  for (const dir of cgroupDirs('/k8s.io', parseCgroupMounts(mountinfo))) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
    if (!entries) continue;
    cgroups.push(dir);
    for (const entry of entries) if (entry.isDirectory()) cgroups.push(`${dir}/${entry.name}`);
  }
  return cgroups;
}

/** The host's network namespaces, links, relevant mounts, container cgroups and temp-file loop devices now, to compare after a test. */
export async function takeHostSnapshot(): Promise<HostSnapshot> {
  const [netns, linkOutput, mountinfo, loopDevices] = await Promise.all([
    listNetns(),
    runCommand('ip', ['-o', 'link', 'show']).then((result) => result.stdout),
    readFile('/proc/self/mountinfo', 'utf8'),
    listTempLoopDevices(),
  ]);
  return {
    netns,
    links: parseLinkNames(linkOutput),
    mounts: parseRelevantMounts(mountinfo),
    cgroups: await listContainerCgroups(mountinfo),
    loopDevices,
  };
}

/** Everything present in `after` that was not in `before`. */
export function diffHostSnapshots(before: HostSnapshot, after: HostSnapshot): HostLeaks {
  const added = (a: string[], b: string[]) => {
    const seen = new Set(a);
    return b.filter((item) => !seen.has(item));
  };
  return {
    netns: added(before.netns, after.netns),
    links: added(before.links, after.links),
    mounts: added(before.mounts, after.mounts),
    cgroups: added(before.cgroups, after.cgroups),
    loopDevices: added(before.loopDevices, after.loopDevices),
  };
}

/** Whether a comparison found anything left behind. */
export function hasLeaks(leaks: HostLeaks): boolean {
  return (
    leaks.netns.length +
      leaks.links.length +
      leaks.mounts.length +
      leaks.cgroups.length +
      leaks.loopDevices.length >
    0
  );
}

/** What was left behind, as one line for a failure message. */
export function describeLeaks(leaks: HostLeaks): string {
  const parts: string[] = [];
  if (leaks.netns.length > 0) parts.push(`network namespaces: ${leaks.netns.join(', ')}`);
  if (leaks.links.length > 0) parts.push(`host links: ${leaks.links.join(', ')}`);
  if (leaks.mounts.length > 0) parts.push(`mounts: ${leaks.mounts.join(', ')}`);
  if (leaks.cgroups.length > 0) parts.push(`container cgroups: ${leaks.cgroups.join(', ')}`);
  if (leaks.loopDevices.length > 0) parts.push(`loop devices: ${leaks.loopDevices.join(', ')}`);
  return parts.join('; ');
}

/** A test run left namespaces, host links, mounts, container cgroups or loop devices behind. */
export class HostLeakError extends Error {
  readonly code = 'HOST_RESOURCES_LEAKED';
  constructor(readonly leaks: HostLeaks) {
    super(`the test run left behind ${describeLeaks(leaks)}`);
    this.name = 'HostLeakError';
  }
}

/** How a leak check waits for the kernel and takes its snapshots (tests inject both). */
export interface LeakCheckOptions {
  /** How long to wait for asynchronous kernel cleanup (veth teardown) to settle (default 3 s). */
  settleMs?: number;
  /** Takes a snapshot (default takeHostSnapshot). */
  snapshot?: () => Promise<HostSnapshot>;
  /** Waits `ms` (default a timer). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Compare the host against `before`, re-checking for a short while (deleting a namespace
 * destroys its interfaces asynchronously), and throw HostLeakError naming what is left.
 */
export async function assertNoHostLeaks(before: HostSnapshot, options: LeakCheckOptions = {}): Promise<void> {
  const snapshot = options.snapshot ?? takeHostSnapshot;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = options.settleMs ?? 3000;
  let waited = 0;
  for (;;) {
    const leaks = diffHostSnapshots(before, await snapshot());
    if (!hasLeaks(leaks)) return;
    if (waited >= deadline) throw new HostLeakError(leaks);
    await sleep(200);
    waited += 200;
  }
}
