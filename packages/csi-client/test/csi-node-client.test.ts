import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CsiError,
  CsiNodeClient,
  csiServiceDefinition,
  csiWireJson,
  InvalidCsiArgumentError,
  isCsiError,
  type PluginServer,
  PluginTimeoutError,
  PluginUnreachableError,
  servePlugin,
} from '../src/index';

type Handler = (call: ServerUnaryCall<Record<string, unknown>, unknown>, cb: sendUnaryData<unknown>) => void;

let dir: string;
let server: PluginServer;
const received: { rpc: string; request: Record<string, unknown> }[] = [];
let hang: (() => void) | undefined;

function answer(rpc: string, response: unknown): Handler {
  return (call, cb) => {
    received.push({ rpc, request: call.request });
    cb(null, response);
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'na-csi-client-'));
  server = await servePlugin(join(dir, 'csi.sock'), [
    {
      definition: csiServiceDefinition('Identity'),
      implementation: {
        GetPluginInfo: answer('GetPluginInfo', { name: 'test.csi.example.com', vendorVersion: '1.2.3' }),
        Probe: answer('Probe', { ready: { value: false } }),
        GetPluginCapabilities: answer('GetPluginCapabilities', {
          capabilities: [
            { service: { type: 'CONTROLLER_SERVICE' } },
            { volumeExpansion: { type: 'ONLINE' } },
          ],
        }),
      },
    },
    {
      definition: csiServiceDefinition('Node'),
      implementation: {
        NodeGetInfo: answer('NodeGetInfo', {
          nodeId: 'node-a',
          maxVolumesPerNode: 31,
          accessibleTopology: { segments: { 'topology.example.com/zone': 'z1' } },
        }),
        NodeGetCapabilities: answer('NodeGetCapabilities', {
          capabilities: [{ rpc: { type: 'STAGE_UNSTAGE_VOLUME' } }, { rpc: { type: 'GET_VOLUME_STATS' } }],
        }),
        NodeStageVolume: answer('NodeStageVolume', {}),
        NodeUnstageVolume: ((_call, cb) =>
          cb({ code: status.NOT_FOUND, details: 'volume vol-9 is not staged' })) as Handler,
        NodePublishVolume: answer('NodePublishVolume', {}),
        NodeUnpublishVolume: ((call) => {
          received.push({ rpc: 'NodeUnpublishVolume', request: call.request });
          hang = () => undefined; // never answers: the client's deadline ends the call
        }) as Handler,
        NodeGetVolumeStats: answer('NodeGetVolumeStats', {
          usage: [{ available: 10, total: 4294967296 * 4, used: 5, unit: 'BYTES' }],
          volumeCondition: { abnormal: true, message: 'disk gone' },
        }),
        NodeExpandVolume: answer('NodeExpandVolume', { capacityBytes: 2_147_483_648 }),
      },
    },
  ]);
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('CsiNodeClient', () => {
  it('reads the Identity service', async () => {
    const c = new CsiNodeClient({ endpoint: `unix://${server.socketPath}` });
    try {
      expect(await c.getPluginInfo()).toEqual({
        name: 'test.csi.example.com',
        vendorVersion: '1.2.3',
        manifest: {},
      });
      expect(await c.probe()).toBe(false);
      expect(await c.getPluginCapabilities()).toEqual([
        { service: { type: 'CONTROLLER_SERVICE' } },
        { volumeExpansion: { type: 'ONLINE' } },
      ]);
    } finally {
      c.close();
    }
  });

  it('reads NodeGetInfo, capabilities and stats with 64-bit numbers intact', async () => {
    const c = new CsiNodeClient({ endpoint: server.socketPath });
    try {
      expect(await c.nodeGetInfo()).toEqual({
        nodeId: 'node-a',
        maxVolumesPerNode: 31,
        accessibleTopology: { segments: { 'topology.example.com/zone': 'z1' } },
      });
      expect(await c.nodeGetCapabilities()).toEqual(['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS']);
      expect(await c.nodeGetVolumeStats({ volumeId: 'v', volumePath: '/p' })).toEqual({
        usage: [{ available: 10, total: 17179869184, used: 5, unit: 'BYTES' }],
        volumeCondition: { abnormal: true, message: 'disk gone' },
      });
      expect(
        await c.nodeExpandVolume({
          volumeId: 'v',
          volumePath: '/p',
          capacityRange: { requiredBytes: 2 ** 31 },
        }),
      ).toBe(2 ** 31);
    } finally {
      c.close();
    }
  });

  it('sends stage and publish requests field for field', async () => {
    const c = new CsiNodeClient({ endpoint: server.socketPath });
    received.length = 0;
    try {
      await c.nodeStageVolume({
        volumeId: 'vol-1',
        stagingTargetPath: '/root/plugins/kubernetes.io/csi/d/h/globalmount',
        volumeCapability: { accessMode: { mode: 'SINGLE_NODE_WRITER' }, mount: {} },
        volumeContext: { a: 'b' },
      });
      await c.nodePublishVolume({
        volumeId: 'vol-1',
        targetPath: '/root/pods/u/volumes/kubernetes.io~csi/v/mount',
        volumeCapability: { accessMode: { mode: 'SINGLE_NODE_MULTI_WRITER' }, mount: { mountFlags: ['ro'] } },
        readonly: true,
      });
    } finally {
      c.close();
    }
    expect(received.map((r) => [r.rpc, csiWireJson(`${r.rpc}Request`, r.request)])).toEqual([
      [
        'NodeStageVolume',
        {
          staging_target_path: '/root/plugins/kubernetes.io/csi/d/h/globalmount',
          volume_capability: { access_mode: { mode: 'SINGLE_NODE_WRITER' }, mount: {} },
          volume_context: { a: 'b' },
          volume_id: 'vol-1',
        },
      ],
      [
        'NodePublishVolume',
        {
          readonly: true,
          target_path: '/root/pods/u/volumes/kubernetes.io~csi/v/mount',
          volume_capability: {
            access_mode: { mode: 'SINGLE_NODE_MULTI_WRITER' },
            mount: { mount_flags: ['ro'] },
          },
          volume_id: 'vol-1',
        },
      ],
    ]);
  });

  it("turns the driver's error status into a typed error naming the call", async () => {
    const c = new CsiNodeClient({ endpoint: server.socketPath });
    try {
      const err = await c
        .nodeUnstageVolume({ volumeId: 'vol-9', stagingTargetPath: '/s' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CsiError);
      expect(isCsiError(err, 'NOT_FOUND')).toBe(true);
      expect((err as CsiError).rpc).toBe('NodeUnstageVolume');
      expect((err as CsiError).message).toContain(
        'rpc error: code = NotFound desc = volume vol-9 is not staged',
      );
    } finally {
      c.close();
    }
  });

  it('gives up on a driver that does not answer at the deadline', async () => {
    const c = new CsiNodeClient({ endpoint: server.socketPath });
    try {
      const err = await c
        .nodeUnpublishVolume({ volumeId: 'v', targetPath: '/t' }, 300)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PluginTimeoutError);
      expect((err as PluginTimeoutError).code).toBe('DEADLINE_EXCEEDED');
      expect(hang).toBeDefined();
    } finally {
      c.close();
    }
  });

  it('names a missing socket as unreachable', async () => {
    const c = new CsiNodeClient({ endpoint: join(dir, 'absent.sock') });
    try {
      const err = await c.nodeGetInfo(5_000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PluginUnreachableError);
      expect((err as Error).message).toContain('absent.sock');
    } finally {
      c.close();
    }
  });

  it('refuses an endpoint that is no unix socket', () => {
    expect(() => new CsiNodeClient({ endpoint: 'tcp://1.2.3.4:5' })).toThrow(InvalidCsiArgumentError);
  });
});
