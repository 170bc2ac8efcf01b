import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { leftoverCgroupPaths, removeLeftoverCgroups } from './container-cgroups';

const state = await mkdtemp(join(tmpdir(), 'na-ctrd-state-'));
afterAll(() => rm(state, { recursive: true, force: true }));

async function bundle(namespace: string, id: string, cgroupsPath?: string, stateDir = state): Promise<void> {
  const dir = join(stateDir, 'io.containerd.runtime.v2.task', namespace, id);
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

/** Where this machine freezes a cgroup: v1's freezer hierarchy, else the v2 hierarchy. */
function freezer(): { mount: string; file: string; frozen: string; thawed: string } {
  if (existsSync('/sys/fs/cgroup/freezer/cgroup.procs'))
    return { mount: '/sys/fs/cgroup/freezer', file: 'freezer.state', frozen: 'FROZEN', thawed: 'THAWED' };
  return { mount: '/sys/fs/cgroup', file: 'cgroup.freeze', frozen: '1', thawed: '0' };
}

describe('removeLeftoverCgroups (real cgroups)', () => {
  const { mount, file, frozen, thawed } = freezer();
  const parent = `nodeagent-thaw-${process.pid}-${randomBytes(3).toString('hex')}`;
  const id = 'frozenctr';
  const dir = join(mount, parent, id);
  afterAll(async () => {
    await rmdir(dir).catch(() => undefined);
    await rmdir(join(mount, parent)).catch(() => undefined);
  });

  it('kills a container runc left frozen and removes its cgroup', async () => {
    await mkdir(dir, { recursive: true });
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      sleeper.on('exit', (_, signal) => resolve(signal)),
    );
    try {
      await writeFile(join(dir, 'cgroup.procs'), String(sleeper.pid));
      await writeFile(join(dir, file), frozen);
      await vi.waitFor(async () => expect((await readFile(join(dir, file), 'utf8')).trim()).toBe(frozen), {
        timeout: 10_000,
      });
      // A state dir of its own: the other tests' bundles name cgroups this one must not touch.
      const own = await mkdtemp(join(tmpdir(), 'na-ctrd-state-'));
      await bundle('k8s.io', id, `/${parent}/${id}`, own);
      await removeLeftoverCgroups(own).finally(() => rm(own, { recursive: true, force: true }));
      expect(await exited).toBe('SIGKILL');
      expect(existsSync(dir)).toBe(false);
    } finally {
      // A failed run leaves nothing: thawed, so the kill lands and the cgroup empties for afterAll.
      await writeFile(join(dir, file), thawed).catch(() => undefined);
      sleeper.kill('SIGKILL');
      await exited;
    }
  }, 30_000);
});
