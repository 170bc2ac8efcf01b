import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Secret } from '../../src/api/pod-types';
import { systemMounter } from '../../src/volumes/mounter';
import { PodVolumeManager } from '../../src/volumes/pod-volume-manager';
import { makePod } from '../helpers/fixtures';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `na-kubelet-tmpfs-${process.pid}-`));
});
afterAll(async () => {
  // Whatever a failed assertion left mounted under our temp dir goes first.
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '');
  for (const target of mounts.filter((m) => m.startsWith(root)).reverse())
    await systemMounter.unmount(target).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

async function tmpfsMounts(): Promise<Map<string, string>> {
  const lines = (await readFile('/proc/self/mounts', 'utf8')).split('\n');
  return new Map(
    lines
      .map((line) => line.split(' '))
      .filter((fields) => fields[2] === 'tmpfs' && fields[1]?.startsWith(root))
      .map((fields) => [fields[1]!, fields[3]!]),
  );
}

describe('memory-backed volumes on the host (root)', () => {
  it('mounts secret and Memory emptyDir volumes on tmpfs with the size limit, and unmounts them', async () => {
    const secret: Secret = {
      metadata: { name: 'db' },
      data: { password: Buffer.from('pw').toString('base64') },
    };
    const manager = new PodVolumeManager({ rootDir: root, mounter: systemMounter });
    const pod = makePod({
      volumes: [
        { name: 'creds', secret: { secretName: 'db' } },
        { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
        { name: 'disk', emptyDir: {} },
      ],
    });
    const mounted = await manager.setUp(pod, {
      objects: { getConfigMap: async () => undefined, getSecret: async () => secret },
    });
    const mounts = await tmpfsMounts();
    expect([...mounts.keys()].sort()).toEqual(
      [mounted.get('creds')!.hostPath, mounted.get('scratch')!.hostPath].sort(),
    );
    expect(mounts.get(mounted.get('scratch')!.hostPath)).toContain('size=8192k');
    expect(await readFile(join(mounted.get('creds')!.hostPath, 'password'), 'utf8')).toBe('pw');
    // A second setUp (resync) does not stack another mount.
    await manager.setUp(pod, {
      objects: { getConfigMap: async () => undefined, getSecret: async () => secret },
    });
    expect((await tmpfsMounts()).size).toBe(2);
    await manager.tearDown(pod.metadata.uid!);
    expect((await tmpfsMounts()).size).toBe(0);
  });

  it('after a restart, unmounts the tmpfs volumes of a pod no longer there and removes its directory', async () => {
    const secret: Secret = {
      metadata: { name: 'db' },
      data: { password: Buffer.from('pw').toString('base64') },
    };
    const before = new PodVolumeManager({ rootDir: root, mounter: systemMounter });
    const pod = makePod({
      volumes: [
        { name: 'creds', secret: { secretName: 'db' } },
        { name: 'scratch', emptyDir: { medium: 'Memory' } },
        { name: 'disk', emptyDir: {} },
      ],
    });
    const mounted = await before.setUp(pod, {
      objects: { getConfigMap: async () => undefined, getSecret: async () => secret },
    });
    await writeFile(join(mounted.get('disk')!.hostPath, 'data'), 'written by the container');
    expect((await tmpfsMounts()).size).toBe(2);

    // The kubelet restarts; the pod was deleted meanwhile, and the runtime holds nothing of it.
    const after = new PodVolumeManager({ rootDir: root, mounter: systemMounter });
    await after.reconstruct();
    await after.cleanUpOrphans(new Set(), new Set());
    expect((await tmpfsMounts()).size).toBe(0);
    await expect(readdir(join(root, 'pods'))).resolves.toEqual([]);
  });
});
