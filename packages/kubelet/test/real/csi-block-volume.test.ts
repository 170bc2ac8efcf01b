/**
 * A claim with volumeMode: Block in a real containerd pod: FakeCsiPlugin publishes the volume as
 * a device node with the numbers of a loop device the test attaches to a file of its own (no
 * mount anywhere), the kubelet links it under pods/<uid>/volumeDevices and hands it to the
 * container as a CRI device at /dev/xvda; what the container writes there lands in the file.
 * While the pod runs the kubelet holds the device as upstream's does: bound on a file of the pod's
 * under plugins/…/volumeDevices and held open by a loop device over it. Deleting the pod releases
 * that, unpublishes and unstages it. A claim on a local Block PersistentVolume whose path is that
 * loop device reaches the container and is held the same way, without a driver. The loop device
 * is detached after the test.
 */
import { execFile } from 'node:child_process';
import { readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StorageV1Api } from '@kubernetes/client-node';
import { type DriverRegistrar, FakeCsiPlugin, startDriverRegistrar } from '@nodeagent/testing/csi';
import { listTempLoopDevices } from '@nodeagent/testing/netns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiCsiNodeInfo } from '../../src/volumes/csi/api-csi-node-info';
import { apiCsiStorageObjects } from '../../src/volumes/csi/api-csi-storage-objects';
import type { CsiStorageObjects } from '../../src/volumes/csi/csi-storage-objects';
import { createBoundBlockClaim, DRIVER } from '../helpers/csi-volume-harness';
import { type NodeHarness, startNodeHarness, waitFor } from './node-harness';

const run = promisify(execFile);
let node: NodeHarness;
let plugin: FakeCsiPlugin | undefined;
let registrar: DriverRegistrar | undefined;
let loopDevice: string | undefined;
let backing: string;

/** The loop devices whose backing file is under `dir`, by backing file (as the kernel names it in sysfs). */
async function loopsUnder(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const line of await listTempLoopDevices(dir)) {
    const [device, file] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    found.set(file, device);
  }
  return found;
}

/** Mount points under `dir` in this mount namespace. */
async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target.startsWith(dir));
}

/** Calls go to `target()` once it exists: the CSI seam needs the harness's own API clients. */
function late<T extends object>(target: () => T | undefined): T {
  return new Proxy({} as T, {
    get: (_t, property) => {
      const current = target();
      if (!current) return undefined;
      const value = Reflect.get(current, property) as unknown;
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}

beforeAll(async () => {
  let nodeInfo: ReturnType<typeof apiCsiNodeInfo> | undefined;
  let objects: CsiStorageObjects | undefined;
  node = await startNodeHarness({
    kubelet: { api: { csi: { nodeInfo: late(() => nodeInfo), objects: late(() => objects) } } },
  });
  const storage = node.api.kubeConfig().makeApiClient(StorageV1Api);
  nodeInfo = apiCsiNodeInfo(node.nodeName, node.core, storage);
  objects = apiCsiStorageObjects(node.core, storage);
  await storage.createCSIDriver({ body: { metadata: { name: DRIVER }, spec: { attachRequired: false } } });
  backing = join(node.dir, 'block.img');
  await writeFile(backing, Buffer.alloc(1024 * 1024));
  loopDevice = (await run('losetup', ['--find', '--show', backing])).stdout.trim();
  const { rdev } = await stat(loopDevice);
  plugin = await FakeCsiPlugin.start({
    driverName: DRIVER,
    nodeId: node.nodeName,
    blockDevice: { major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) },
  });
  registrar = await startDriverRegistrar({
    registrationDir: join(node.dir, 'root', 'plugins_registry'),
    driverName: DRIVER,
    endpoint: plugin.socketPath,
  });
  await waitFor('the driver registered', () => (registrar?.statuses.length ? true : undefined), 60_000);
}, 180_000);

afterAll(async () => {
  await registrar?.stop();
  await plugin?.stop();
  // Whatever a failed assertion left of the kubelet's locks goes before the node's directory.
  if (node) {
    for (const loop of (await loopsUnder(join(node.dir, 'root'))).values())
      await run('losetup', ['-d', loop]).catch(() => {});
    for (const target of (await mountsUnder(node.dir)).reverse())
      await run('umount', [target]).catch(() => {});
  }
  await node?.stop();
  if (loopDevice) await run('losetup', ['-d', loopDevice]);
}, 120_000);

describe('a block claim in a real containerd pod', () => {
  it('is the container device at devicePath; its writes land in the volume; deleting the pod unmaps it', async () => {
    expect(registrar?.statuses).toEqual([{ pluginRegistered: true, error: '' }]);
    await createBoundBlockClaim(node.core, 'raw', { name: 'pv-raw', volumeHandle: 'vol-raw' });
    node.createPod({
      metadata: { name: 'blk' },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'disk', persistentVolumeClaim: { claimName: 'raw' } }],
        containers: [
          {
            name: 'app',
            image: node.busybox,
            command: ['sh', '-c', 'printf hello-block | dd of=/dev/xvda conv=notrunc,fsync && sleep 3600'],
            volumeDevices: [{ name: 'disk', devicePath: '/dev/xvda' }],
          },
        ],
      },
    });
    await node.waitPod('blk', 'Running', (p) => (p.status?.phase === 'Running' ? true : undefined), 90_000);
    const listing = await node.exec('blk', 'app', ['ls', '-l', '/dev/xvda']);
    expect(listing).toMatch(/^b/);
    await waitFor(
      'the write in the backing file',
      async () => ((await readFile(backing)).subarray(0, 11).toString() === 'hello-block' ? true : undefined),
      30_000,
    );
    // Upstream's lock: the device bound on volumeDevices/<pv>/dev/<pod uid>, held open by a loop device over it.
    const uid = node.getPod('blk')?.metadata?.uid ?? '';
    const lock = join(
      node.dir,
      'root',
      'plugins',
      'kubernetes.io',
      'csi',
      'volumeDevices',
      'pv-raw',
      'dev',
      uid,
    );
    expect(await mountsUnder(node.dir)).toContain(lock);
    expect((await stat(lock)).rdev).toBe((await stat(loopDevice!)).rdev);
    expect([...(await loopsUnder(join(node.dir, 'root'))).keys()]).toEqual([lock]);

    node.deletePod('blk');
    await waitFor('the pod gone', () => (node.getPod('blk') ? undefined : true), 90_000);
    await waitFor(
      'the lock released',
      async () => ((await loopsUnder(join(node.dir, 'root'))).size === 0 ? true : undefined),
      30_000,
    );
    expect(await mountsUnder(join(node.dir, 'root', 'plugins'))).toEqual([]);
    await waitFor('the volume unpublished', () => (plugin?.published.size === 0 ? true : undefined), 30_000);
    await waitFor('the volume unstaged', () => (plugin?.staged.size === 0 ? true : undefined), 30_000);
  });

  it('a claim on a local Block PersistentVolume: the node device itself at devicePath, its writes land on it', async () => {
    await createBoundBlockClaim(node.core, 'local-raw', {
      name: 'pv-local-raw',
      volumeHandle: '',
      csi: undefined,
      local: { path: loopDevice! },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node.nodeName] }],
            },
          ],
        },
      },
    });
    node.createPod({
      metadata: { name: 'local-blk' },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'disk', persistentVolumeClaim: { claimName: 'local-raw' } }],
        containers: [
          {
            name: 'app',
            image: node.busybox,
            // At 4 KiB in: the first test's write stays at the start of the same backing file.
            command: [
              'sh',
              '-c',
              'printf hello-local | dd of=/dev/xvdb bs=4096 seek=1 conv=notrunc,fsync && sleep 3600',
            ],
            volumeDevices: [{ name: 'disk', devicePath: '/dev/xvdb' }],
          },
        ],
      },
    });
    const pod = await node.waitPod(
      'local-blk',
      'Running',
      (p) => (p.status?.phase === 'Running' ? p : undefined),
      90_000,
    );
    expect(await node.exec('local-blk', 'app', ['ls', '-l', '/dev/xvdb'])).toMatch(/^b/);
    await waitFor(
      'the write on the device',
      async () =>
        (await readFile(backing)).subarray(4096, 4096 + 11).toString() === 'hello-local' ? true : undefined,
      30_000,
    );
    const link = join(
      node.dir,
      'root',
      'pods',
      pod.metadata.uid!,
      'volumeDevices',
      'kubernetes.io~local-volume',
      'pv-local-raw',
    );
    expect(await readlink(link)).toBe(loopDevice);
    const lock = join(
      node.dir,
      'root',
      'plugins',
      'kubernetes.io~local-volume',
      'volumeDevices',
      'pv-local-raw',
      pod.metadata.uid!,
    );
    expect(await mountsUnder(node.dir)).toContain(lock);
    expect([...(await loopsUnder(join(node.dir, 'root'))).keys()]).toEqual([lock]);
    // Upstream's MetricsBlock: the device's size as capacity, nothing else.
    expect((await node.kubelet.volumes.csiVolumeStats(pod.metadata.uid!)).get('disk')).toEqual({
      capacityBytes: 1024 * 1024,
      availableBytes: 0,
      usedBytes: 0,
      inodes: 0,
      inodesFree: 0,
      inodesUsed: 0,
      pvcRef: { name: 'local-raw', namespace: 'default' },
    });
    node.deletePod('local-blk');
    await waitFor('the pod gone', () => (node.getPod('local-blk') ? undefined : true), 90_000);
    await waitFor(
      'the link gone',
      () =>
        readlink(link).then(
          () => undefined,
          () => true,
        ),
      30_000,
    );
    expect((await loopsUnder(join(node.dir, 'root'))).size).toBe(0);
    expect(await mountsUnder(join(node.dir, 'root', 'plugins'))).toEqual([]);
  });
});
