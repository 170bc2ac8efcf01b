import { readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// By path, as process-sweep imports: this module is loaded without the workspace-source condition.
import { cgroupDirs, parseCgroupMounts } from '../../packages/testing/src/netns/cgroup-mounts';
import { isAlive, killAndWait } from './process-sweep';

/**
 * The cgroups runc made for a private containerd's containers outlive them when containerd or its
 * shims die before the tasks are deleted (a killed test run, a crashed containerd): runc removes a
 * container's cgroup only when its shim deletes the task. The container's processes outlive them
 * too (reparented to init), and a container without a pod netns is not found by its netns. What
 * is left is read from the task bundles still on disk: each bundle's config.json names the
 * container's cgroup (`linux.cgroupsPath`).
 */

/** Task bundles: `<state>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json`. */
export async function leftoverCgroupPaths(state: string): Promise<string[]> {
  const tasks = join(state, 'io.containerd.runtime.v2.task');
  const paths = new Set<string>();
  for (const namespace of await readdir(tasks).catch(() => [] as string[])) {
    for (const id of await readdir(join(tasks, namespace)).catch(() => [] as string[])) {
      try {
        const spec = JSON.parse(await readFile(join(tasks, namespace, id, 'config.json'), 'utf8')) as {
          linux?: { cgroupsPath?: string };
        };
        const path = spec.linux?.cgroupsPath;
        // cgroupfs paths only: a systemd driver's `slice:prefix:name` is a transient scope, which
        // systemd removes itself once it is empty. And only the container's own cgroup, named by
        // its id (containerd's `<parent>/<id>`): never a parent that others share.
        if (path?.startsWith('/') && path.split('/').at(-1) === id) paths.add(path);
      } catch {
        // bundle half-written or already removed
      }
    }
  }
  return [...paths];
}

async function pidsIn(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map(Number);
}

/**
 * Thaw a cgroup runc left frozen: runc freezes a container's cgroup while it signals every process
 * in it (and for a pause), so a runc killed in that window leaves the container frozen, and a
 * frozen task takes no SIGKILL until it is thawed. v1's freezer.state, v2's cgroup.freeze; a
 * directory with neither is not a freezer's.
 */
async function thaw(dir: string): Promise<void> {
  await writeFile(join(dir, 'freezer.state'), 'THAWED').catch(() => undefined);
  await writeFile(join(dir, 'cgroup.freeze'), '0').catch(() => undefined);
}

/**
 * Kill what is left in the leftover containers' cgroups, thawed first, and remove the cgroups. A
 * cgroup another process still holds (rmdir's EBUSY after the wait) is left as it is.
 */
export async function removeLeftoverCgroups(state: string): Promise<void> {
  const paths = await leftoverCgroupPaths(state);
  if (paths.length === 0) return;
  const mounts = parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8'));
  const dirs = paths.flatMap((p) => cgroupDirs(p, mounts));
  const pids = new Set<number>();
  for (const dir of dirs) for (const pid of await pidsIn(dir)) pids.add(pid);
  for (const dir of dirs) await thaw(dir);
  await killAndWait([...pids], 5000);
  for (const dir of dirs) {
    // A killed task leaves its cgroup a moment after it exits: retry briefly.
    for (let attempt = 0; attempt < 20; attempt++) {
      const error = await rmdir(dir).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      if (!error || error.code === 'ENOENT') break;
      if (error.code !== 'EBUSY' || (await pidsIn(dir)).some(isAlive)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
