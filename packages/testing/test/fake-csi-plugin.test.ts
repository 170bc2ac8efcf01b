import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsiNodeClient, isCsiError, PluginTimeoutError } from '@nodeagent/csi-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FakeCsiPlugin,
  parseCsiExchange,
  startDriverRegistrar,
  withRootDirPlaceholder,
} from '../src/csi/index';

const fixture = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'fidelity',
  'node-plugins-v1.36',
  'csi-hostpath-exchange.txt',
);

/** A recorded request back into the client's camelCase, map keys (volume_context's) kept. */
function camel(value: unknown, isMap = false): unknown {
  if (Array.isArray(value)) return value.map((v) => camel(v));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      isMap ? k : k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()),
      isMap ? v : camel(v, k.endsWith('_context') || k === 'secrets' || k === 'segments'),
    ]),
  );
}

let root: string;
let plugin: FakeCsiPlugin;
let client: CsiNodeClient;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'na-fake-csi-test-'));
  plugin = await FakeCsiPlugin.start({
    driverName: 'hostpath.csi.k8s.io',
    nodeId: 'np-upstream',
    topology: { 'topology.hostpath.csi/node': 'np-upstream' },
  });
  client = new CsiNodeClient({ endpoint: plugin.endpoint, timeoutMs: 30_000 });
});

afterEach(async () => {
  client.close();
  await plugin.stop();
  await rm(root, { recursive: true, force: true });
});

describe('FakeCsiPlugin', () => {
  it("accepts every Node call upstream's kubelet made to the hostpath driver, and records each as the driver logged it", async () => {
    const recorded = parseCsiExchange(await readFile(fixture, 'utf8')).filter(
      ([m]) => m.startsWith('/csi.v1.Node/') && m !== '/csi.v1.Node/NodeGetInfo',
    );
    expect(recorded.length).toBeGreaterThan(10);
    const rpcOf = (m: string) => m.slice('/csi.v1.Node/'.length);
    for (const [method, request] of recorded) {
      const req = camel(JSON.parse(JSON.stringify(request).split('<root-dir>').join(root))) as never;
      const rpc = rpcOf(method);
      if (rpc === 'NodeGetCapabilities') await client.nodeGetCapabilities();
      else if (rpc === 'NodeStageVolume') await client.nodeStageVolume(req);
      else if (rpc === 'NodePublishVolume') await client.nodePublishVolume(req);
      else if (rpc === 'NodeUnpublishVolume') await client.nodeUnpublishVolume(req);
      else if (rpc === 'NodeUnstageVolume') await client.nodeUnstageVolume(req);
      else throw new Error(`unexpected ${method}`);
    }
    expect(withRootDirPlaceholder(plugin.exchange(), root)).toEqual(recorded);
    // Everything published and staged was undone, as in the recording's end state.
    expect(plugin.published.size).toBe(0);
    expect(plugin.staged.size).toBe(0);
  });

  it('answers registration calls as the hostpath driver', async () => {
    expect(await client.getPluginInfo()).toMatchObject({ name: 'hostpath.csi.k8s.io' });
    expect(await client.nodeGetInfo()).toEqual({
      nodeId: 'np-upstream',
      maxVolumesPerNode: 0,
      accessibleTopology: { segments: { 'topology.hostpath.csi/node': 'np-upstream' } },
    });
    expect(await client.nodeGetCapabilities()).toEqual([
      'STAGE_UNSTAGE_VOLUME',
      'VOLUME_CONDITION',
      'GET_VOLUME_STATS',
      'SINGLE_NODE_MULTI_WRITER',
      'EXPAND_VOLUME',
    ]);
  });

  it('creates the target directory, refuses a publish of an unstaged volume and requests missing fields', async () => {
    const target = join(root, 'pods', 'u', 'volumes', 'kubernetes.io~csi', 'v', 'mount');
    const cap = { accessMode: { mode: 'SINGLE_NODE_WRITER' as const }, mount: {} };
    const unstaged = await client
      .nodePublishVolume({
        volumeId: 'vol',
        stagingTargetPath: join(root, 'g'),
        targetPath: target,
        volumeCapability: cap,
      })
      .catch((e: unknown) => e);
    expect(isCsiError(unstaged, 'FAILED_PRECONDITION')).toBe(true);
    const noTarget = await client
      .nodePublishVolume({ volumeId: 'vol', targetPath: '', volumeCapability: cap })
      .catch((e: unknown) => e);
    expect(isCsiError(noTarget, 'INVALID_ARGUMENT')).toBe(true);
    expect((noTarget as Error).message).toContain('Target path missing in request');

    await client.nodeStageVolume({
      volumeId: 'vol',
      stagingTargetPath: join(root, 'g'),
      volumeCapability: cap,
    });
    await client.nodePublishVolume({
      volumeId: 'vol',
      stagingTargetPath: join(root, 'g'),
      targetPath: target,
      volumeCapability: cap,
    });
    expect((await stat(target)).isDirectory()).toBe(true);
    expect(plugin.published.get(target)).toBe('vol');
    await client.nodeUnpublishVolume({ volumeId: 'vol', targetPath: target });
    await expect(stat(target)).rejects.toThrow(/ENOENT/);
  });

  it('fails or hangs a call when told to', async () => {
    plugin.failNext('NodeGetInfo', { code: 14, message: 'driver restarting' });
    const err = await client.nodeGetInfo().catch((e: unknown) => e);
    expect(isCsiError(err, 'UNAVAILABLE')).toBe(true);
    plugin.failNext('Probe', 'hang');
    await expect(client.probe(200)).rejects.toBeInstanceOf(PluginTimeoutError);
    expect(await client.probe()).toBe(true);
  });
});

describe('startDriverRegistrar', () => {
  it('serves GetInfo on <dir>/<driver>-reg.sock as node-driver-registrar does', async () => {
    const reg = await startDriverRegistrar({
      registrationDir: root,
      driverName: 'hostpath.csi.k8s.io',
      endpoint: plugin.socketPath,
    });
    try {
      expect(reg.socketPath).toBe(join(root, 'hostpath.csi.k8s.io-reg.sock'));
      expect((await stat(reg.socketPath)).isSocket()).toBe(true);
    } finally {
      await reg.stop();
    }
    await expect(stat(reg.socketPath)).rejects.toThrow(/ENOENT/);
  });
});
