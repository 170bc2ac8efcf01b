import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsiNodeClient } from '@nodeagent/csi-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCsiPlugin, MountNamespace } from '../../src/csi/index';

let ns: MountNamespace;
let root: string;
let plugin: FakeCsiPlugin;
let client: CsiNodeClient;

beforeAll(async () => {
  ns = await MountNamespace.start();
  root = await mkdtemp(join(tmpdir(), 'na-csi-mounts-'));
  plugin = await FakeCsiPlugin.start({ driverName: 'mounts.csi.test', nodeId: 'n', mounter: ns.mounter() });
  client = new CsiNodeClient({ endpoint: plugin.endpoint, timeoutMs: 30_000 });
});

afterAll(async () => {
  client?.close();
  await plugin?.stop();
  await ns?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function hostMountPoints(): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4] as string);
}

describe('FakeCsiPlugin with real bind mounts in a mount namespace the test owns', () => {
  it("stages and publishes as bind mounts there only; a write through the pod's path lands in the volume; unpublish and unstage unmount", async () => {
    const staging = join(root, 'plugins', 'kubernetes.io', 'csi', 'mounts.csi.test', 'h', 'globalmount');
    const target = join(root, 'pods', 'uid-1', 'volumes', 'kubernetes.io~csi', 'pv-1', 'mount');
    const cap = { accessMode: { mode: 'SINGLE_NODE_WRITER' as const }, mount: {} };
    await client.nodeStageVolume({ volumeId: 'vol-1', stagingTargetPath: staging, volumeCapability: cap });
    await client.nodePublishVolume({
      volumeId: 'vol-1',
      stagingTargetPath: staging,
      targetPath: target,
      volumeCapability: cap,
    });

    expect(await ns.mountPoints()).toEqual(expect.arrayContaining([staging, target]));
    const host = await hostMountPoints();
    expect(host).not.toContain(staging);
    expect(host).not.toContain(target);

    await ns.exec('sh', ['-c', `echo written-by-pod > '${target}/f'`]);
    expect(await readFile(join(plugin.volumeDir('vol-1'), 'f'), 'utf8')).toBe('written-by-pod\n');

    await client.nodeUnpublishVolume({ volumeId: 'vol-1', targetPath: target });
    await client.nodeUnstageVolume({ volumeId: 'vol-1', stagingTargetPath: staging });
    const after = await ns.mountPoints();
    expect(after).not.toContain(target);
    expect(after).not.toContain(staging);
    // The data stays with the volume, as a real driver's does.
    expect(await readFile(join(plugin.volumeDir('vol-1'), 'f'), 'utf8')).toBe('written-by-pod\n');
  });
});
