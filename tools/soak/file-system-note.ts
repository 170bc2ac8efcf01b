/**
 * Which file system holds the kubelet's directories, for the soak's notes. Each pod's directories
 * are file-system metadata (inode-table and directory blocks) charged to the kubelet's cgroup,
 * and how many such blocks a churn reaches depends on the file system: ext4 without a journal
 * leaves a deleted inode unused for 5 to 35 s, so under churn new directories keep landing in
 * inode-table blocks not cached before, where a journalled ext4 reuses the same ones
 * (docs/performance/kubelet.md, "The soak").
 */
import { readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { type MountinfoEntry, parseMountinfo } from '@nodeagent/testing/netns';

/** An ext4's journal thread as sysfs names it ("<none>" without a journal), by `major:minor`; undefined if unreadable. */
export type Ext4JournalTask = (device: string) => string | undefined;

/** The mount holding `path`: the longest mount point containing it; of equal ones, the later (it covers the earlier). */
export function mountHolding(mounts: readonly MountinfoEntry[], path: string): MountinfoEntry | undefined {
  let holding: MountinfoEntry | undefined;
  for (const mount of mounts) {
    const inside = mount.point === '/' || path === mount.point || path.startsWith(`${mount.point}/`);
    if (inside && (!holding || mount.point.length >= holding.point.length)) holding = mount;
  }
  return holding;
}

/** A line naming the file system under `path` and, for ext4, whether it journals. */
export function fileSystemNote(
  path: string,
  mountinfo = readFileSync('/proc/self/mountinfo', 'utf8'),
  journalTask: Ext4JournalTask = sysfsJournalTask,
): string {
  const mount = mountHolding(parseMountinfo(mountinfo), path);
  if (!mount) return `no mount in /proc/self/mountinfo holds ${path}`;
  const where = `${path} is on ${mount.fsType} (${mount.source}) mounted at ${mount.point}`;
  if (mount.fsType !== 'ext4') return where;
  const task = journalTask(mount.device);
  if (task === undefined) return `${where}, its journal unknown (no /sys/fs/ext4 entry for ${mount.device})`;
  if (task === '<none>')
    return `${where}, without a journal: a deleted inode stays unused for 5-35 s, so the pods' directories keep reaching inode-table blocks not cached before`;
  return `${where}, with a journal`;
}

function sysfsJournalTask(device: string): string | undefined {
  try {
    const name = basename(realpathSync(`/sys/dev/block/${device}`));
    return readFileSync(`/sys/fs/ext4/${name}/journal_task`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
