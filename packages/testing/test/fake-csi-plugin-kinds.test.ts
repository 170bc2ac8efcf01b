import { lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsiNodeClient, isCsiError } from '@nodeagent/csi-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCsiPlugin } from '../src/csi/index';

let root: string;
let plugin: FakeCsiPlugin;
let client: CsiNodeClient;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'na-fake-csi-kinds-'));
  plugin = await FakeCsiPlugin.start({
    driverName: 'hostpath.csi.k8s.io',
    nodeId: 'n',
    nodeCapabilities: ['VOLUME_MOUNT_GROUP', 'EXPAND_VOLUME'],
    blockDevice: { major: 7, minor: 200 },
  });
  client = new CsiNodeClient({ endpoint: plugin.endpoint, timeoutMs: 30_000 });
});

afterEach(async () => {
  client.close();
  await plugin.stop();
  await rm(root, { recursive: true, force: true });
});

async function csiCode(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isCsiError(error)) throw new Error(`expected a CSI error, got ${String(error)}`);
  return `${error.code}: ${error.details}`;
}

describe('FakeCsiPlugin for the volume kinds', () => {
  it('reports the Node capabilities it was given, besides STAGE_UNSTAGE_VOLUME', async () => {
    expect(await client.nodeGetCapabilities()).toEqual([
      'STAGE_UNSTAGE_VOLUME',
      'VOLUME_MOUNT_GROUP',
      'EXPAND_VOLUME',
    ]);
  });

  it('publishes a block volume as a block device node of the given numbers and removes it on unpublish', async () => {
    const staging = join(root, 'staging', 'pv');
    const target = join(root, 'publish', 'pv', 'uid');
    await mkdir(join(root, 'publish', 'pv'), { recursive: true });
    const capability = { accessMode: { mode: 'SINGLE_NODE_WRITER' as const }, block: {} };
    await client.nodeStageVolume({ volumeId: 'v', stagingTargetPath: staging, volumeCapability: capability });
    await client.nodePublishVolume({
      volumeId: 'v',
      stagingTargetPath: staging,
      targetPath: target,
      volumeCapability: capability,
    });
    const node = await lstat(target);
    expect(node.isBlockDevice()).toBe(true);
    expect([Math.floor(node.rdev / 256) & 0xfff, (node.rdev & 0xff) | ((node.rdev >> 12) & 0xfff00)]).toEqual(
      [7, 200],
    );
    expect(plugin.published.get(target)).toBe('v');
    await client.nodeUnpublishVolume({ volumeId: 'v', targetPath: target });
    await expect(lstat(target)).rejects.toThrow(/ENOENT/);
    expect(plugin.published.size).toBe(0);
  });

  it('expands a volume at an existing path and records the size; refuses a request the hostpath driver refuses', async () => {
    const path = join(root, 'mount');
    await mkdir(path);
    expect(
      await client.nodeExpandVolume({
        volumeId: 'v',
        volumePath: path,
        capacityRange: { requiredBytes: 2097152 },
      }),
    ).toBe(0);
    expect(plugin.expanded.get('v')).toBe(2097152);
    expect(await csiCode(client.nodeExpandVolume({ volumeId: 'v', volumePath: '' }))).toBe(
      'INVALID_ARGUMENT: volume path not provided',
    );
    expect(await csiCode(client.nodeExpandVolume({ volumeId: 'v', volumePath: path }))).toBe(
      'INVALID_ARGUMENT: Capacity range not provided',
    );
    expect(
      await csiCode(
        client.nodeExpandVolume({
          volumeId: 'v',
          volumePath: join(root, 'gone'),
          capacityRange: { requiredBytes: 1 },
        }),
      ),
    ).toMatch(/^INVALID_ARGUMENT: Could not get file information from .*\/gone: ENOENT/);
  });
});
