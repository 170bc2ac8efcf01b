import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { CsiNodeClient, isCsiError } from '@nodeagent/csi-client';
import { FakeClock } from '@nodeagent/primitives';
import { FakeCsiPlugin } from '@nodeagent/testing/csi';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { registerVolumeStatsMetrics } from '../src/metrics-collectors/volume-stats-metrics';
import { csiBlockPaths } from '../src/volumes/csi/csi-block-volumes';
import type { ClaimStatusWriter } from '../src/volumes/csi/csi-node-expansion';
import type { ClaimObject } from '../src/volumes/csi/csi-storage-objects';
import { RecordingMounter } from '../src/volumes/mounter';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { volumeEventReason } from '../src/volumes/volumes-not-ready';
import {
  type CsiVolumeHarness,
  createBoundBlockClaim,
  NODE,
  setUpFailure,
  startCsiVolumeHarness,
} from './helpers/csi-volume-harness';

let h: CsiVolumeHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Status patches the kubelet sent, in order. */
let patches: Record<string, unknown>[] = [];

/** A registered FakeCsiPlugin (the hostpath driver's capabilities unless given) and a bound 1Mi Block claim `raw`. */
async function harness(nodeCapabilities?: string[]): Promise<CsiVolumeHarness> {
  patches = [];
  const t = await startCsiVolumeHarness({
    csiDriver: { attachRequired: false },
    plugin: nodeCapabilities ? { nodeCapabilities } : {},
    csi: (core) => ({
      claimStatus: {
        async patchClaimStatus(namespace, name, status) {
          patches.push(status);
          return (await core.patchNamespacedPersistentVolumeClaimStatus(
            { name, namespace, body: { status } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          )) as ClaimObject;
        },
      } satisfies ClaimStatusWriter,
    }),
  });
  h = t;
  await createBoundBlockClaim(t.core, 'raw', { name: 'pv-raw', volumeHandle: 'vol-raw' });
  return t;
}

const pod: Pod = {
  metadata: { name: 'db', namespace: 'default', uid: 'uid-db' },
  spec: {
    containers: [{ name: 'c', image: 'busybox', volumeDevices: [{ name: 'disk', devicePath: '/dev/xvda' }] }],
    volumes: [{ name: 'disk', persistentVolumeClaim: { claimName: 'raw' } }],
  },
};

/** What the external resizer leaves once ControllerExpandVolume asked for node expansion. */
async function resize(t: CsiVolumeHarness, size: string): Promise<void> {
  await t.core.patchPersistentVolume(
    { name: 'pv-raw', body: { spec: { capacity: { storage: size } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await t.core.patchNamespacedPersistentVolumeClaimStatus(
    {
      name: 'raw',
      namespace: 'default',
      body: {
        status: {
          allocatedResources: { storage: size },
          allocatedResourceStatuses: { storage: 'NodeResizePending' },
          conditions: [
            {
              type: 'FileSystemResizePending',
              status: 'True',
              lastTransitionTime: '2026-01-01T00:00:00Z',
              message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.',
            },
          ],
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

const readClaim = (t: CsiVolumeHarness): Promise<V1PersistentVolumeClaim> =>
  t.core.readNamespacedPersistentVolumeClaim({ name: 'raw', namespace: 'default' });
const calls = (t: CsiVolumeHarness, rpc: string) =>
  t.plugin.calls.filter((c) => c.method.endsWith(`/${rpc}`)).map((c) => c.request);
const paths = (t: CsiVolumeHarness) => csiBlockPaths(t.root, 'pv-raw', 'uid-db');
const blockCapability = { access_mode: { mode: 'SINGLE_NODE_WRITER' }, block: {} };

describe('volumeMode: Block claims: failed mapping events', () => {
  it('names the MapVolume step that failed, and posts it as FailedMapVolume', async () => {
    const t = await harness();
    let now = Date.UTC(2026, 0, 1);
    const volumes = new PodVolumeManager({
      rootDir: t.root,
      mounter: new RecordingMounter(),
      csi: t.csiVolumes,
      now: () => new Date(now),
    });
    t.plugin.failNext('NodeStageVolume', { code: 13, message: 'no such disk' });
    const staging = await setUpFailure(volumes, pod);
    expect(staging.events).toEqual([
      'MapVolume.SetUpDevice failed for volume "pv-raw" : rpc error: code = Internal desc = no such disk',
    ]);
    expect(staging.events.map(volumeEventReason)).toEqual(['FailedMapVolume']);
    now += staging.retryAfterMs ?? 0;
    t.plugin.failNext('NodePublishVolume', { code: 9, message: 'device busy' });
    const publishing = await setUpFailure(volumes, pod);
    expect(publishing.events).toEqual([
      'MapVolume.MapPodDevice failed for volume "pv-raw" : rpc error: code = FailedPrecondition desc = device busy',
    ]);
    // A filesystem volume's failures stay FailedMount.
    expect(volumeEventReason('MountVolume.SetUp failed for volume "v" : x')).toBe('FailedMount');
  });
});

describe('volumeMode: Block claims: NodeExpandVolume', () => {
  it("expands a mapped block claim with its device as volume_path and a block capability, and finishes the claim's status", async () => {
    const t = await harness();
    await t.volumes.setUp(pod, { objects: {} as never });
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(calls(t, 'NodeExpandVolume')).toEqual([]);

    await resize(t, '2Mi');
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(calls(t, 'NodeExpandVolume')).toEqual([
      {
        volume_id: 'vol-raw',
        volume_path: paths(t).publish,
        capacity_range: { required_bytes: 2097152 },
        staging_target_path: paths(t).staging,
        volume_capability: blockCapability,
      },
    ]);
    expect(t.plugin.expanded.get('vol-raw')).toBe(2097152);
    expect(patches[0]).toEqual({ allocatedResourceStatuses: { storage: 'NodeResizeInProgress' } });
    const claim = await readClaim(t);
    expect(claim.status?.capacity).toEqual({ storage: '2Mi' });
    expect(claim.status?.conditions ?? []).toEqual([]);
    expect(claim.status?.allocatedResourceStatuses ?? {}).toEqual({});
    expect(t.events).toEqual([
      `FileSystemResizeSuccessful: MountVolume.NodeExpandVolume succeeded for volume "pv-raw" ${NODE}`,
    ]);
    // The device is mapped once; done, the next sync expands nothing.
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(calls(t, 'NodeExpandVolume')).toHaveLength(1);
    expect(calls(t, 'NodePublishVolume')).toHaveLength(1);
  });

  it("expands a claim grown while unmapped as it is mapped, and fails the mapping in upstream's words until that succeeds", async () => {
    const t = await harness();
    let now = Date.UTC(2026, 0, 1);
    const volumes = new PodVolumeManager({
      rootDir: t.root,
      mounter: new RecordingMounter(),
      csi: t.csiVolumes,
      now: () => new Date(now),
    });
    await resize(t, '2Mi');
    t.plugin.failNext('NodeExpandVolume', { code: 13, message: 'disk busy' });
    const failure = await setUpFailure(volumes, pod);
    expect(failure.events).toEqual([
      'MapVolume.MarkVolumeAsMounted failed while expanding volume for volume "pv-raw" : Expander.NodeExpand failed to expand the volume : rpc error: code = Internal desc = disk busy',
    ]);
    expect((await readClaim(t)).status?.conditions?.at(-1)?.type).toBe('NodeResizeError');

    now += failure.retryAfterMs ?? 0;
    await volumes.setUp(pod, { objects: {} as never });
    // At the mapping the staging path is the one the driver staged at.
    expect(calls(t, 'NodeExpandVolume').at(-1)).toEqual({
      volume_id: 'vol-raw',
      volume_path: paths(t).publish,
      capacity_range: { required_bytes: 2097152 },
      staging_target_path: paths(t).staging,
      volume_capability: blockCapability,
    });
    expect((await readClaim(t)).status?.capacity).toEqual({ storage: '2Mi' });
    expect(calls(t, 'NodeStageVolume')).toHaveLength(1);
  });

  it('refuses without EXPAND_VOLUME and never expands a read-only claim (FileSystemResizeFailed as it is mapped)', async () => {
    const t = await harness(['GET_VOLUME_STATS']);
    await t.volumes.setUp(pod, { objects: {} as never });
    await resize(t, '2Mi');
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(t.events).toEqual([
      'VolumeResizeFailed: NodeExpandVolume.NodeExpandVolume failed for volume "pv-raw" : Expander.NodeExpand found CSI plugin kubernetes.io/csi/hostpath.csi.k8s.io to not support node expansion',
    ]);
    expect((await readClaim(t)).status?.capacity).toEqual({ storage: '1Mi' });

    const readOnly: Pod = {
      metadata: { name: 'ro', namespace: 'default', uid: 'uid-ro' },
      spec: {
        ...pod.spec,
        volumes: [{ name: 'disk', persistentVolumeClaim: { claimName: 'raw', readOnly: true } }],
      },
    };
    await t.volumes.setUp(readOnly, { objects: {} as never });
    await t.volumes.setUp(readOnly, { objects: {} as never });
    // Mapped for a read-only claim: upstream's MapVolume refuses to resize it, once, and maps it.
    expect(t.events.slice(1)).toEqual([
      'FileSystemResizeFailed: MountVolume.NodeExpandVolume failed for volume "pv-raw" requested read-only file system',
    ]);
    expect(calls(t, 'NodeExpandVolume')).toEqual([]);
  });
});

describe('volumeMode: Block claims: volume stats', () => {
  it('measures a mapped block claim at its device (BYTES total only) for the summary and kubelet_volume_stats_*, until it is unmapped', async () => {
    const t = await harness();
    await t.volumes.setUp(pod, { objects: {} as never });
    // Upstream's CSI client starts every figure at 0: the driver reports only the size.
    const figures = {
      capacityBytes: 1 << 30,
      availableBytes: 0,
      usedBytes: 0,
      inodes: 0,
      inodesFree: 0,
      inodesUsed: 0,
    };
    expect(await t.volumes.csiVolumeStats('uid-db')).toEqual(
      new Map([['disk', { ...figures, pvcRef: { name: 'raw', namespace: 'default' } }]]),
    );
    expect(calls(t, 'NodeGetVolumeStats')).toEqual([{ volume_id: 'vol-raw', volume_path: paths(t).publish }]);

    const registry = new Registry();
    const clock = new FakeClock();
    registerVolumeStatsMetrics(registry, () => t.csiVolumes.claimVolumeStats(), clock, 60_000);
    const series = async () =>
      (await registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('kubelet_volume_stats_') && l.includes('{'));
    const label = '{namespace="default",persistentvolumeclaim="raw"}';
    expect(await series()).toEqual([
      `kubelet_volume_stats_capacity_bytes${label} 1073741824`,
      `kubelet_volume_stats_available_bytes${label} 0`,
      `kubelet_volume_stats_used_bytes${label} 0`,
      `kubelet_volume_stats_inodes${label} 0`,
      `kubelet_volume_stats_inodes_free${label} 0`,
      `kubelet_volume_stats_inodes_used${label} 0`,
    ]);

    // An expanded device reports its new size.
    await resize(t, '2Mi');
    await t.volumes.setUp(pod, { objects: {} as never });
    expect((await t.volumes.csiVolumeStats('uid-db')).get('disk')?.capacityBytes).toBe(2097152);
    clock.advance(60_000);
    expect(await series()).toContain(`kubelet_volume_stats_capacity_bytes${label} 2097152`);

    await t.volumes.tearDown('uid-db');
    expect(await t.volumes.csiVolumeStats('uid-db')).toEqual(new Map());
    expect(await t.csiVolumes.claimVolumeStats()).toEqual([]);
  });

  it('asks no driver without GET_VOLUME_STATS', async () => {
    const t = await harness(['EXPAND_VOLUME']);
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(await t.volumes.csiVolumeStats('uid-db')).toEqual(new Map());
    expect(await t.csiVolumes.claimVolumeStats()).toEqual([]);
    expect(calls(t, 'NodeGetVolumeStats')).toEqual([]);
  });
});

describe('FakeCsiPlugin with block volumes, as the CSI spec and the hostpath driver allow', () => {
  it('measures a published block volume by its size alone (BYTES total) and expands it only at its device', async () => {
    const root = await mkdtemp(join(tmpdir(), 'na-csi-block-fake-'));
    const plugin = await FakeCsiPlugin.start({ driverName: 'hostpath.csi.k8s.io', nodeId: 'n' });
    const client = new CsiNodeClient({ endpoint: plugin.endpoint, timeoutMs: 30_000 });
    const failure = (call: Promise<unknown>) =>
      call.then(
        () => 'succeeded',
        (e: unknown) => (isCsiError(e) ? `${e.code}: ${e.details}` : String(e)),
      );
    try {
      const target = join(root, 'publish', 'pv', 'uid');
      await mkdir(join(root, 'publish', 'pv'), { recursive: true });
      const capability = { accessMode: { mode: 'SINGLE_NODE_WRITER' as const }, block: {} };
      await client.nodeStageVolume({
        volumeId: 'v',
        stagingTargetPath: join(root, 's'),
        volumeCapability: capability,
      });
      await client.nodePublishVolume({
        volumeId: 'v',
        stagingTargetPath: join(root, 's'),
        targetPath: target,
        volumeCapability: capability,
      });
      const stats = await client.nodeGetVolumeStats({ volumeId: 'v', volumePath: target });
      expect(stats.usage).toEqual([{ unit: 'BYTES', total: 1 << 30, available: 0, used: 0 }]);
      expect(
        await failure(client.nodeGetVolumeStats({ volumeId: 'v', volumePath: join(root, 'gone') })),
      ).toMatch(/^NOT_FOUND: Could not get file information from .*\/gone: ENOENT/);
      await mkdir(join(root, 'dir'));
      const expand = (volumePath: string) =>
        client.nodeExpandVolume({
          volumeId: 'v',
          volumePath,
          capacityRange: { requiredBytes: 2097152 },
          volumeCapability: capability,
        });
      expect(await failure(expand(join(root, 'dir')))).toBe(
        'INVALID_ARGUMENT: Volume v is not a block device',
      );
      await expand(target);
      expect((await client.nodeGetVolumeStats({ volumeId: 'v', volumePath: target })).usage[0]?.total).toBe(
        2097152,
      );
    } finally {
      client.close();
      await plugin.stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
