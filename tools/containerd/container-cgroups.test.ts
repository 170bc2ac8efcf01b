import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leftoverCgroupPaths } from './container-cgroups';

const state = await mkdtemp(join(tmpdir(), 'na-ctrd-state-'));
afterAll(() => rm(state, { recursive: true, force: true }));

async function bundle(namespace: string, id: string, cgroupsPath?: string): Promise<void> {
  const dir = join(state, 'io.containerd.runtime.v2.task', namespace, id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ linux: { cgroupsPath } }));
}

describe('leftoverCgroupPaths', () => {
  it("names each leftover task's own cgroupfs cgroup, and never a shared parent or a systemd scope", async () => {
    await bundle('k8s.io', 'abc', '/k8s.io/abc');
    await bundle('k8s.io', 'pod1ctr', '/kubepods/besteffort/pod1/pod1ctr');
    await bundle('default', 'def', '/default/def');
    await bundle('k8s.io', 'root', '/');
    await bundle('k8s.io', 'other', '/k8s.io/shared');
    await bundle('k8s.io', 'scoped', 'kubepods-besteffort-pod1.slice:cri-containerd:scoped');
    await bundle('k8s.io', 'none');
    await mkdir(join(state, 'io.containerd.runtime.v2.task', 'k8s.io', 'half-written'));
    expect((await leftoverCgroupPaths(state)).sort()).toEqual([
      '/default/def',
      '/k8s.io/abc',
      '/kubepods/besteffort/pod1/pod1ctr',
    ]);
  });

  it('finds none in a state dir without task bundles', async () => {
    expect(await leftoverCgroupPaths(join(state, 'missing'))).toEqual([]);
  });
});
