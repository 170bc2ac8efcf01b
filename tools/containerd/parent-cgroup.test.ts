import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupDirs, parseCgroupMounts } from '../../packages/testing/src/netns/cgroup-mounts';
import { holdParentCgroup, type ParentCgroupOptions, releaseParentCgroup } from './parent-cgroup';

// Real cgroups, under a parent and with a lock file of this file's own (never containerd's /k8s.io,
// which instances of other test files hold meanwhile).
const lockDir = await mkdtemp(join(tmpdir(), 'na-parent-cgroup-'));
const mounts = parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8'));
const made: string[] = [];

function options(): ParentCgroupOptions & { parent: string; dirs: string[] } {
  const parent = `/nodeagent-parent-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const dirs = cgroupDirs(parent, mounts);
  made.push(...dirs);
  return { parent, lockFile: join(lockDir, 'lock'), dirs };
}

afterAll(async () => {
  // A failed case leaves nothing: holds and containers' stand-ins first, then the parents.
  for (const dir of made) {
    for (const name of await readdir(dir).catch(() => [] as string[]))
      await rmdir(join(dir, name)).catch(() => undefined);
    await rmdir(dir).catch(() => undefined);
  }
  await rm(lockDir, { recursive: true, force: true });
});

const present = (dirs: string[]) => dirs.map((dir) => existsSync(dir));

describe('the parent cgroup held by private containerds', () => {
  it('is made by the first holder and removed by the last, whichever order they stop in', async () => {
    const opts = options();
    expect(opts.dirs.length).toBeGreaterThan(0);
    await holdParentCgroup('a', opts);
    expect(present(opts.dirs).every(Boolean)).toBe(true);
    await holdParentCgroup('b', opts);
    await releaseParentCgroup('a', opts);
    // b still holds it: a container b's runc makes in it now must find it there.
    expect(present(opts.dirs).every(Boolean)).toBe(true);
    for (const dir of opts.dirs) expect(await readdir(dir)).toContain('nodeagent-made-b');
    await releaseParentCgroup('b', opts);
    expect(present(opts.dirs).some(Boolean)).toBe(false);
  });

  it('keeps a parent that was there before the first hold', async () => {
    const opts = options();
    for (const dir of opts.dirs) await mkdir(dir);
    await holdParentCgroup('a', opts);
    await releaseParentCgroup('a', opts);
    expect(present(opts.dirs).every(Boolean)).toBe(true);
    for (const dir of opts.dirs)
      expect((await readdir(dir)).filter((n) => n.startsWith('nodeagent-'))).toEqual([]);
  });

  it("keeps a parent that still has a container's cgroup, and one its releaser never held", async () => {
    const opts = options();
    await holdParentCgroup('a', opts);
    await releaseParentCgroup('never-held', opts);
    expect(present(opts.dirs).every(Boolean)).toBe(true);
    for (const dir of opts.dirs) await mkdir(join(dir, 'ctr1'));
    await releaseParentCgroup('a', opts);
    expect(present(opts.dirs).every(Boolean)).toBe(true);
    for (const dir of opts.dirs) expect(await readdir(dir)).not.toContain('nodeagent-made-a');
  });

  it('leaves nothing when many holders start and stop at once', async () => {
    const opts = options();
    const holders = Array.from({ length: 8 }, (_, i) => `h${i}`);
    await Promise.all(
      holders.map(async (holder) => {
        await holdParentCgroup(holder, opts);
        // While held, the parent is there for this holder's containers.
        for (const dir of opts.dirs) await mkdir(join(dir, `${holder}-ctr`));
        for (const dir of opts.dirs) await rmdir(join(dir, `${holder}-ctr`));
        await releaseParentCgroup(holder, opts);
      }),
    );
    expect(present(opts.dirs).some(Boolean)).toBe(false);
  });
});
