import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrphanedPodDirs } from '../src/volumes/orphaned-pod-dirs';

let root: string;
let logs: { level: string; obj: Record<string, unknown>; msg?: string }[];
const logger = {
  info: (obj: object, msg?: string) => logs.push({ level: 'info', obj: obj as never, msg }),
  warn: (obj: object, msg?: string) => logs.push({ level: 'warn', obj: obj as never, msg }),
  error: (obj: object, msg?: string) => logs.push({ level: 'error', obj: obj as never, msg }),
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'na-orphans-'));
  logs = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function podWith(uid: string, files: Record<string, string>, dirs: string[] = []): Promise<void> {
  await mkdir(join(root, 'pods', uid), { recursive: true });
  for (const dir of dirs) await mkdir(join(root, 'pods', uid, dir), { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, 'pods', uid, path, '..'), { recursive: true });
    await writeFile(join(root, 'pods', uid, path), text);
  }
}

describe("orphaned pod directories (upstream's cleanupOrphanedPodDirs)", () => {
  it('removes an orphan whose volume directories are empty, keeps known pods, and keeps an orphan whose volume path still holds something, logging it rolled up', async () => {
    const registry = new Registry();
    const mounted = new Set<string>();
    const orphans = new OrphanedPodDirs({
      rootDir: root,
      isMountPoint: async (p) => mounted.has(p),
      podVolumesHeld: (uid) => uid === 'held',
      logger,
      registry,
    });
    await podWith('known', { 'etc-hosts': 'x' }, ['volumes/kubernetes.io~empty-dir/cache']);
    await podWith('empty', { 'etc-hosts': 'x', 'containers/c/0': '' }, ['volumes/kubernetes.io~csi/pv-a']);
    await podWith('leftover', { 'volumes/kubernetes.io~csi/pv-b/vol_data.json': '{}' });
    await podWith('held', {}, ['volumes/kubernetes.io~csi/pv-c/mount']);
    await podWith('mounted', {}, ['volumes/kubernetes.io~csi/pv-d/mount']);
    mounted.add(join(root, 'pods', 'mounted', 'volumes', 'kubernetes.io~csi', 'pv-d', 'mount'));

    await orphans.sweep(new Set(['known']));

    expect((await readdir(join(root, 'pods'))).sort()).toEqual(['held', 'known', 'leftover', 'mounted']);
    const leftover = join(root, 'pods', 'leftover', 'volumes', 'kubernetes.io~csi', 'pv-b');
    expect(logs.filter((l) => l.level === 'error')).toEqual([
      {
        level: 'error',
        obj: {
          err: `orphaned pod "leftover" found, but failed to rmdir() volume at path ${leftover}: directory not empty`,
          numErrs: 1,
        },
        msg: 'There were many similar errors. Turn up verbosity to see them.',
      },
    ]);
    expect(
      logs
        .filter((l) => l.msg === 'Orphaned pod found, but volumes are not cleaned up')
        .map((l) => l.obj.podUID),
    ).toEqual(['held', 'mounted']);
    expect(logs).toContainEqual({
      level: 'info',
      obj: { podUID: 'empty', path: join(root, 'pods', 'empty', 'volumes', 'kubernetes.io~csi', 'pv-a') },
      msg: 'Cleaned up orphaned volume from pod',
    });
    const metrics = await registry.metrics();
    expect(metrics).toContain('kubelet_orphan_pod_cleaned_volumes 4');
    expect(metrics).toContain('kubelet_orphan_pod_cleaned_volumes_errors 3');
  });

  it("never removes through a mount point left in an orphan's other directories: the data under it stays and the refusal is logged", async () => {
    const mountedAt = join(root, 'pods', 'orphan', 'plugins', 'example.com~driver', 'data');
    const orphans = new OrphanedPodDirs({
      rootDir: root,
      isMountPoint: async (p) => p === mountedAt,
      podVolumesHeld: () => false,
      logger,
    });
    await podWith('orphan', { 'etc-hosts': 'x', 'plugins/example.com~driver/data/precious': 'keep me' });

    await orphans.sweep(new Set());

    expect(await readdir(mountedAt)).toEqual(['precious']);
    expect(await readdir(join(root, 'pods', 'orphan'))).toEqual(['plugins']);
    const errors = logs.filter((l) => l.level === 'error').map((l) => l.obj.err);
    expect(errors[0]).toBe(
      `orphaned pod "orphan" found, but error occurred when trying to remove subdir "${join(root, 'pods', 'orphan', 'plugins')}": cannot delete directory ${mountedAt}: it is a mount point`,
    );
  });
});
