import { PodSandboxState } from '@nodeagent/cri-client/types';
import { FakeClock } from '@nodeagent/primitives';
import type { FakeCsiPlugin } from '@nodeagent/testing/csi';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { registerVolumeStatsMetrics } from '../src/metrics-collectors/volume-stats-metrics';
import { CpuRateTracker } from '../src/stats/cpu-rate';
import { podVolumeUsage } from '../src/stats/fs-usage';
import { assemblePodStats } from '../src/stats/pod-stats-assembly';
import { apiCsiStorageObjects } from '../src/volumes/csi/api-csi-storage-objects';
import type { CsiDrivers } from '../src/volumes/csi/csi-drivers';
import { CsiVolumes } from '../src/volumes/csi/csi-volumes';
import { RecordingMounter } from '../src/volumes/mounter';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { claimPod, createBoundClaim } from './helpers/csi-claims';
import { type CsiKnownDriver, startCsiKnownDriver } from './helpers/csi-known-driver';

const DRIVER = 'hostpath.csi.k8s.io';
let known: CsiKnownDriver;
let root: string;
let plugin: FakeCsiPlugin;
let drivers: CsiDrivers;
let objects: ReturnType<typeof apiCsiStorageObjects>;

function manager(volumeHealth: boolean): { csi: CsiVolumes; volumes: PodVolumeManager } {
  const csi = new CsiVolumes({ rootDir: root, nodeName: 'node-s', drivers, objects, volumeHealth });
  return { csi, volumes: new PodVolumeManager({ rootDir: root, mounter: new RecordingMounter(), csi }) };
}

const inlinePod: Pod = {
  metadata: { name: 'inline', namespace: 'default', uid: 'uid-inline' },
  spec: {
    containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }],
    volumes: [{ name: 'scratch', csi: { driver: DRIVER } }],
  },
};

beforeEach(async () => {
  known = await startCsiKnownDriver({
    driverName: DRIVER,
    // podInfoOnMount: the hostpath driver tells an inline volume by csi.storage.k8s.io/ephemeral.
    csiDriver: {
      attachRequired: false,
      podInfoOnMount: true,
      volumeLifecycleModes: ['Persistent', 'Ephemeral'],
    },
    plugin: { nodeId: 'node-s' },
    dirPrefix: 'na-csi-stats',
  });
  ({ root, plugin, drivers } = known);
  await createBoundClaim(known.core, DRIVER, 'data', 'pv-data', 'vol-data');
  objects = apiCsiStorageObjects(known.core, known.storage);
});

afterEach(async () => {
  await known?.close();
});

describe('CSI volume stats for /stats/summary and VolumeCondition', () => {
  it("gives each pod's CSI volumes by the pod's volume name from NodeGetVolumeStats, a claim's with its pvcRef, never walking the mount", async () => {
    const { volumes } = manager(false);
    await volumes.setUp(claimPod('claimer', 'uid-claimer', 'data'), { objects: {} as never });
    await volumes.setUp(inlinePod, { objects: {} as never });
    const figures = {
      capacityBytes: 1 << 30,
      availableBytes: (1 << 30) - 4096,
      usedBytes: 4096,
      inodes: 65536,
      inodesFree: 65534,
      inodesUsed: 2,
    };
    expect(await volumes.csiVolumeStats('uid-claimer')).toEqual(
      new Map([['data', { ...figures, pvcRef: { name: 'data', namespace: 'default' } }]]),
    );
    expect(await volumes.csiVolumeStats('uid-inline')).toEqual(new Map([['scratch', figures]]));
    // The volume's path alone, as upstream's metricsCsi asks (never the claim's staging path).
    expect(
      plugin.calls.filter((c) => c.method.endsWith('/NodeGetVolumeStats')).map((c) => c.request),
    ).toEqual([
      {
        volume_id: 'vol-data',
        volume_path: `${root}/pods/uid-claimer/volumes/kubernetes.io~csi/pv-data/mount`,
      },
      {
        volume_id: expect.stringMatching(/^csi-[0-9a-f]{64}$/),
        volume_path: `${root}/pods/uid-inline/volumes/kubernetes.io~csi/scratch/mount`,
      },
    ]);
    // The directory walk leaves kubernetes.io~csi to the drivers.
    expect(await podVolumeUsage(root, 'uid-claimer')).toEqual(new Map());
  });

  it('reads VolumeCondition only with the CSIVolumeHealth gate: volumeHealthStats and kubelet_volume_stats_health_status_abnormal', async () => {
    const off = manager(false);
    await off.volumes.setUp(claimPod('claimer', 'uid-claimer', 'data'), { objects: {} as never });
    plugin.setVolumeCondition('vol-data', { abnormal: true, message: 'disk gone read-only' });
    expect((await off.volumes.csiVolumeStats('uid-claimer')).get('data')?.abnormal).toBeUndefined();
    const offRegistry = new Registry();
    registerVolumeStatsMetrics(offRegistry, () => off.csi.claimVolumeStats(), new FakeClock(), 60_000);
    expect(await offRegistry.metrics()).not.toContain('kubelet_volume_stats_health_status_abnormal{');

    const on = manager(true);
    await on.volumes.setUp(claimPod('claimer', 'uid-claimer', 'data'), { objects: {} as never });
    expect((await on.volumes.csiVolumeStats('uid-claimer')).get('data')?.abnormal).toBe(true);
    const registry = new Registry();
    const clock = new FakeClock();
    registerVolumeStatsMetrics(registry, () => on.csi.claimVolumeStats(), clock, 60_000);
    const series = async () =>
      (await registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('kubelet_volume_stats_health_status_abnormal{'));
    expect(await series()).toEqual([
      'kubelet_volume_stats_health_status_abnormal{namespace="default",persistentvolumeclaim="data"} 1',
    ]);
    plugin.setVolumeCondition('vol-data', { abnormal: false, message: 'ok again' });
    clock.advance(60_000);
    expect(await series()).toEqual([
      'kubelet_volume_stats_health_status_abnormal{namespace="default",persistentvolumeclaim="data"} 0',
    ]);
  });

  it("puts a CSI volume in the pod's volume stats with its own filesystem's figures, outside ephemeral-storage", () => {
    const [pod] = assemblePodStats({
      nowMs: Date.UTC(2026, 0, 1),
      nodeFs: { time: 't', capacityBytes: 5000, availableBytes: 2000 },
      sandboxes: [
        {
          id: 's1',
          metadata: { name: 'claimer', uid: 'uid-claimer', namespace: 'default', attempt: 0 },
          state: PodSandboxState.SANDBOX_READY,
          createdAt: 1_700_000_000n * 1_000_000_000n,
          labels: {
            'io.kubernetes.pod.name': 'claimer',
            'io.kubernetes.pod.namespace': 'default',
            'io.kubernetes.pod.uid': 'uid-claimer',
          },
          annotations: {},
          runtimeHandler: '',
        },
      ],
      containers: [],
      containerStats: [],
      logUsage: new Map(),
      volumeUsage: new Map([
        [
          'uid-claimer',
          new Map([
            ['cache', { bytes: 100, inodes: 3 }],
            [
              'data',
              {
                bytes: 4096,
                inodes: 2,
                ownFs: {
                  capacityBytes: 1 << 30,
                  availableBytes: (1 << 30) - 4096,
                  inodes: 65536,
                  inodesFree: 65534,
                  pvcRef: { name: 'data', namespace: 'default' },
                  abnormal: false,
                },
              },
            ],
          ]),
        ],
      ]),
      cpuRate: new CpuRateTracker(),
    });
    expect(pod?.volume?.find((v) => v.name === 'data')).toEqual({
      name: 'data',
      time: expect.any(String),
      capacityBytes: 1 << 30,
      availableBytes: (1 << 30) - 4096,
      usedBytes: 4096,
      inodes: 65536,
      inodesFree: 65534,
      inodesUsed: 2,
      pvcRef: { name: 'data', namespace: 'default' },
      volumeHealthStats: { abnormal: false },
    });
    expect(pod?.volume?.find((v) => v.name === 'cache')).toMatchObject({
      capacityBytes: 5000,
      usedBytes: 100,
    });
    expect(pod?.['ephemeral-storage']).toMatchObject({ usedBytes: 100, inodesUsed: 3 });
  });
});
