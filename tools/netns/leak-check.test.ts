import { mkdir, readFile, rmdir } from 'node:fs/promises';
import { createNetns, HostLeakError, type Netns } from '@nodeagent/testing';
import { cgroupDirs, parseCgroupMounts } from '@nodeagent/testing/netns';
import { afterEach, describe, expect, it } from 'vitest';
import { holdParentCgroup, releaseParentCgroup } from '../containerd/parent-cgroup';
import defaultSetup, { createLeakCheck } from './leak-check';

// Real kernel: the check runs against namespaces this test makes and removes. Other test files
// may create namespaces at the same moment, so each case only looks at its own purpose tag.
describe('leak-check globalSetup', () => {
  let leftover: Netns | undefined;
  afterEach(async () => {
    await leftover?.delete();
    leftover = undefined;
  });

  it('is a globalSetup function returning a teardown', () => {
    expect(typeof defaultSetup).toBe('function');
  });

  it('passes when a run cleans up after itself', async () => {
    const teardown = await createLeakCheck({ include: (item) => item.includes('na-leak-ok-') })();
    const netns = await createNetns({ purpose: 'leak-ok' });
    await netns.delete();
    await expect(teardown()).resolves.toBeUndefined();
  });

  it('fails the run and throws naming a namespace (and its mount) that a run left behind', async () => {
    let failed = 0;
    const teardown = await createLeakCheck({
      mode: 'error', // whatever NODEAGENT_LEAK_CHECK the surrounding run was given
      include: (item) => item.includes('na-leak-left-'),
      settleMs: 400,
      failRun: () => failed++,
    })();
    leftover = await createNetns({ purpose: 'leak-left' });
    const error = await teardown().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostLeakError);
    const leaks = (error as HostLeakError).leaks;
    expect(leaks.netns).toEqual([leftover.name]);
    expect(leaks.mounts).toEqual([`nsfs /run/netns/${leftover.name}`]);
    expect((error as Error).message).toContain(leftover.name);
    expect(failed).toBe(1);
  });

  it("names a container's cgroup a run left behind under containerd's k8s.io parent", async () => {
    const teardown = await createLeakCheck({
      mode: 'error',
      include: (item) => item.includes('na-leak-cgroup-'),
      settleMs: 0,
      failRun: () => {},
    })();
    const mounts = parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8'));
    const [parent] = cgroupDirs('/k8s.io', mounts);
    if (!parent) throw new Error('no cgroup hierarchy is mounted');
    // The parent is containerd's and shared: held as a private containerd holds it (made when
    // missing, kept while held, removed by the last holder when holders made it).
    const holder = `leak-check-${process.pid}`;
    await holdParentCgroup(holder);
    const left = `${parent}/na-leak-cgroup-${process.pid}`;
    try {
      await mkdir(left);
      const error = await teardown().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HostLeakError);
      expect((error as HostLeakError).leaks.cgroups).toEqual([left]);
    } finally {
      await rmdir(left).catch(() => undefined);
      await releaseParentCgroup(holder);
    }
  });

  it('only warns in warn mode', async () => {
    const teardown = await createLeakCheck({
      mode: 'warn',
      include: (item) => item.includes('na-leak-warn-'),
      settleMs: 0,
    })();
    leftover = await createNetns({ purpose: 'leak-warn' });
    await expect(teardown()).resolves.toBeUndefined();
  });
});
