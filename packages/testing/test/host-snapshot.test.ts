import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffHostSnapshots, type HostSnapshot, listContainerCgroups } from '../src/netns/index';

// A mountinfo whose two cgroup hierarchies are directories of a temp dir: the listing reads the
// directories there, and no real cgroup is made.
const root = await mkdtemp(join(tmpdir(), 'na-host-snapshot-'));
afterAll(() => rm(root, { recursive: true, force: true }));
const mountinfo = (dir: string) =>
  [
    `30 25 0:26 / ${dir}/memory rw,nosuid - cgroup cgroup rw,memory`,
    `31 25 0:27 / ${dir}/pids rw,nosuid - cgroup cgroup rw,pids`,
  ].join('\n');

const snapshot = (cgroups: string[]): HostSnapshot => ({
  netns: [],
  links: [],
  mounts: [],
  cgroups,
  loopDevices: [],
});

describe('listContainerCgroups', () => {
  it('finds nothing in hierarchies without a k8s.io cgroup', async () => {
    const dir = await mkdtemp(join(root, 'none-'));
    await mkdir(join(dir, 'memory'));
    await mkdir(join(dir, 'pids'));
    expect(await listContainerCgroups(mountinfo(dir))).toEqual([]);
  });

  it("lists the k8s.io parent with its containers' cgroups, so a parent a run made is a leak", async () => {
    const dir = await mkdtemp(join(root, 'parent-'));
    const before = await listContainerCgroups(mountinfo(dir));
    // What runc leaves: an empty parent in every hierarchy (the container's own cgroup removed).
    await mkdir(join(dir, 'memory', 'k8s.io', 'ctr1'), { recursive: true });
    await mkdir(join(dir, 'pids', 'k8s.io'), { recursive: true });
    const after = await listContainerCgroups(mountinfo(dir));
    expect(after).toEqual([`${dir}/memory/k8s.io`, `${dir}/memory/k8s.io/ctr1`, `${dir}/pids/k8s.io`]);
    expect(diffHostSnapshots(snapshot(before), snapshot(after)).cgroups).toEqual(after);
  });

  it('does not name a parent that was there before the run', async () => {
    const dir = await mkdtemp(join(root, 'existing-'));
    await mkdir(join(dir, 'memory', 'k8s.io'), { recursive: true });
    const before = await listContainerCgroups(mountinfo(dir));
    await mkdir(join(dir, 'memory', 'k8s.io', 'ctr2'));
    const after = await listContainerCgroups(mountinfo(dir));
    expect(diffHostSnapshots(snapshot(before), snapshot(after)).cgroups).toEqual([
      `${dir}/memory/k8s.io/ctr2`,
    ]);
  });
});
