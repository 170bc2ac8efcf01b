/**
 * Local PersistentVolumes on a disk (volumeMode Filesystem, the path a block device), on the
 * host's tools (root): a loop device attached to a file of the test's own stands for the disk.
 * The first pod's set-up formats it (mkfs.ext4) and mounts it once under
 * plugins/kubernetes.io~local-volume/mounts/<pv>; each pod gets a bind of that mount; the disk's
 * mount goes when the last pod's bind is gone. Everything is mounted under the test's temp dir,
 * and the loop device is detached after the test.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import type { CsiVolumeOperationError } from '../../src/volumes/csi/csi-operation-error';
import type { PersistentVolumeObject } from '../../src/volumes/csi/csi-storage-objects';
import { localDeviceMountPath, setUpLocal, unmountUnusedLocalDevices } from '../../src/volumes/local-volumes';
import { systemMounter } from '../../src/volumes/mounter';

const run = promisify(execFile);
let root: string;
let disk: string | undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `na-kubelet-local-disk-${process.pid}-`));
  const backing = join(root, 'disk.img');
  await writeFile(backing, Buffer.alloc(32 * 1024 * 1024));
  disk = (await run('losetup', ['--find', '--show', backing])).stdout.trim();
});
afterAll(async () => {
  // Whatever a failed assertion left mounted under our temp dir goes first.
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '');
  for (const target of mounts.filter((m) => m.startsWith(root)).reverse())
    await systemMounter.unmount(target).catch(() => undefined);
  if (disk) await run('losetup', ['-d', disk]);
  await rm(root, { recursive: true, force: true });
});

async function mountsUnder(dir: string): Promise<Map<string, { fsType: string; options: string[] }>> {
  return new Map(
    (await readFile('/proc/self/mounts', 'utf8'))
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields[1]?.startsWith(dir))
      .map((fields) => [fields[1]!, { fsType: fields[2]!, options: (fields[3] ?? '').split(',') }]),
  );
}

const pod = (uid: string): Pod => ({
  metadata: { name: uid, namespace: 'default', uid },
  spec: { containers: [] },
});
/** The host with each pod's own volume directory. */
const hostFor = (uid: string) => ({
  rootDir: root,
  mounter: systemMounter,
  volumeDir: (plugin: string, name: string) => join(root, 'pods', uid, 'volumes', plugin, name),
});

describe("a local PersistentVolume on a disk (upstream's local MountDevice and SetUp)", () => {
  it('formats the disk once, mounts it once for every pod, binds it into each, and unmounts it after the last', async () => {
    const pv: PersistentVolumeObject = {
      metadata: { name: 'pv-disk' },
      spec: { local: { path: disk! }, mountOptions: ['noatime'] },
    };
    const claim = { pv, pvName: 'pv-disk', readOnly: false };
    const global = localDeviceMountPath(root, 'pv-disk');
    // Unformatted and asked read-only: refused, nothing mounted.
    const refused = await setUpLocal(pod('uid-ro'), { ...claim, readOnly: true }, hostFor('uid-ro')).then(
      () => undefined,
      (e: unknown) => e as CsiVolumeOperationError,
    );
    expect(refused?.event).toBe(
      `MountVolume.MountDevice failed for volume "pv-disk" : local: failed to mount device ${disk} at ${global} (fstype: ext4), error cannot mount unformatted disk ${disk} as we are manipulating it in read-only mode`,
    );
    expect(await mountsUnder(root)).toEqual(new Map());

    const a = await setUpLocal(pod('uid-a'), claim, hostFor('uid-a'));
    expect((await run('blkid', ['-p', '-s', 'TYPE', '-o', 'value', disk!])).stdout.trim()).toBe('ext4');
    const mounts = await mountsUnder(root);
    expect(mounts.get(global)).toMatchObject({ fsType: 'ext4' });
    expect(mounts.get(global)?.options).toContain('noatime');
    expect(mounts.get(a.hostPath)).toMatchObject({ fsType: 'ext4' });
    await writeFile(join(a.hostPath, 'data'), 'on the disk');
    const b = await setUpLocal(pod('uid-b'), claim, hostFor('uid-b'));
    expect(await readFile(join(b.hostPath, 'data'), 'utf8')).toBe('on the disk');

    // Pod a goes: the disk stays mounted for b; b goes: the disk's mount goes too.
    await systemMounter.unmount(a.hostPath);
    await unmountUnusedLocalDevices(root, systemMounter);
    expect([...(await mountsUnder(root)).keys()].sort()).toEqual([global, b.hostPath].sort());
    await systemMounter.unmount(b.hostPath);
    await unmountUnusedLocalDevices(root, systemMounter);
    expect(await mountsUnder(root)).toEqual(new Map());

    // Mounted again later (a read-only claim now): the filesystem is kept, not formatted again.
    const again = await setUpLocal(pod('uid-c'), { ...claim, readOnly: true }, hostFor('uid-c'));
    expect(await readFile(join(again.hostPath, 'data'), 'utf8')).toBe('on the disk');
    expect((await mountsUnder(root)).get(global)?.options).toContain('ro');
    await systemMounter.unmount(again.hostPath);
    await unmountUnusedLocalDevices(root, systemMounter);
    expect(await mountsUnder(root)).toEqual(new Map());
  });
});
