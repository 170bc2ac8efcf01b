import { spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
// By path, as container-cgroups imports: this module is loaded without the workspace-source condition.
import { cgroupDirs, parseCgroupMounts } from '../../packages/testing/src/netns/cgroup-mounts';
import { REGISTRY_DIR } from './instance-registry';

/**
 * containerd gives a container started without a cgroup parent the cgroup `/<namespace>/<id>`: the
 * CRI's sandboxes and containers when the kubelet or a test sets no parent (`/k8s.io/<id>`), and
 * `ctr -n k8s.io run`'s. With the cgroupfs driver runc makes `/k8s.io` in every hierarchy along
 * with the container's cgroup and later removes only the container's, so the parent outlived every
 * private containerd. stop() removes it, with rmdir only, when private instances made it and none
 * is still running:
 *
 * - Each instance holds the parent from before containerd starts until it has stopped, with an
 *   empty cgroup of its own in it (`nodeagent-<made|found>-<holder>`). The kernel refuses to remove
 *   a cgroup with a child (EBUSY), so one instance's rmdir can never take the parent away while
 *   another's runc makes `/k8s.io/<id>` in it (test files run concurrently, each with instances).
 * - A hold's name says whether the parent was made by these instances (missing when the first
 *   hold was taken; later holds inherit that from a `made` hold they find) or found (a host
 *   containerd's, one an earlier run left): the last holder removes it only when it was made.
 * - Taking or releasing a hold, and deciding, happen under an exclusive flock of one file in the
 *   instance registry's directory, so two instances starting and stopping at the same moment
 *   agree on which is last and on whether the parent is theirs.
 *
 * Here rather than in a vitest globalSetup teardown: the same instances run in `npm test`'s vitest,
 * in the real tier's own leg, in the demo and from the CLI, and stop() covers all of them.
 */
export const CONTAINERD_PARENT_CGROUP = '/k8s.io';

const LOCK_FILE = join(REGISTRY_DIR, 'parent-cgroup.lock');

export interface ParentCgroupOptions {
  /** The parent cgroup, absolute in each hierarchy (default CONTAINERD_PARENT_CGROUP). */
  parent?: string;
  /** The file locked while a hold is taken or released (default in the instance registry's directory). */
  lockFile?: string;
}

function holdName(made: boolean, holder: string): string {
  return `nodeagent-${made ? 'made' : 'found'}-${holder}`;
}

function isHold(name: string): boolean {
  return name.startsWith('nodeagent-made-') || name.startsWith('nodeagent-found-');
}

/**
 * Run `fn` holding an exclusive flock of `lockFile`. flock(1) locks the open file description it
 * is given as stdin, which this process shares and keeps open: the lock lasts until the handle is
 * closed, and goes with this process if it dies, so a killed run leaves no stale lock.
 */
async function withFileLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(lockFile), { recursive: true });
  const handle = await open(lockFile, 'a');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('flock', ['--exclusive', '0'], { stdio: [handle.fd, 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.once('error', reject);
      child.once('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`flock ${lockFile} failed (${code}): ${stderr.trim()}`)),
      );
    });
    return await fn();
  } finally {
    await handle.close();
  }
}

async function parentDirs(parent: string): Promise<string[]> {
  return cgroupDirs(parent, parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8')));
}

async function holdOne(dir: string, holder: string): Promise<void> {
  const made = await mkdir(dir).then(
    () => true,
    (e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? false : undefined),
  );
  // A hierarchy this process cannot write to (read-only, not ours): runc cannot use it either.
  if (made === undefined) return;
  const inherited = !made && (await readdir(dir)).some((name) => name.startsWith(holdName(true, '')));
  await mkdir(join(dir, holdName(made || inherited, holder)));
}

/**
 * Hold the parent cgroup in every hierarchy for `holder` (a name unique to one instance: its
 * netns), making it where it is missing. Taken before containerd starts.
 */
export async function holdParentCgroup(holder: string, opts: ParentCgroupOptions = {}): Promise<void> {
  const dirs = await parentDirs(opts.parent ?? CONTAINERD_PARENT_CGROUP);
  await withFileLock(opts.lockFile ?? LOCK_FILE, async () => {
    for (const dir of dirs) await holdOne(dir, holder);
  });
}

async function releaseOne(dir: string, holder: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const own = names.filter((name) => name === holdName(true, holder) || name === holdName(false, holder));
  // Never held by `holder` (an instance recorded before holds, a half-started one): not its to judge.
  if (own.length === 0) return;
  for (const name of own) await rmdir(join(dir, name));
  const othersHold = names.some((name) => isHold(name) && !own.includes(name));
  // rmdir only: a parent that still has a container's cgroup stays (EBUSY), for the leak check to name.
  if (own.includes(holdName(true, holder)) && !othersHold) await rmdir(dir).catch(() => undefined);
}

/**
 * Release `holder`'s hold of the parent cgroup, and remove the parent where these instances made
 * it, no other holds it and it is empty. Called once containerd and its containers are gone.
 */
export async function releaseParentCgroup(holder: string, opts: ParentCgroupOptions = {}): Promise<void> {
  const dirs = await parentDirs(opts.parent ?? CONTAINERD_PARENT_CGROUP);
  await withFileLock(opts.lockFile ?? LOCK_FILE, async () => {
    for (const dir of dirs) await releaseOne(dir, holder);
  });
}
