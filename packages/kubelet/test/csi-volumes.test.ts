import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, PatchStrategy, StorageV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { FakeClock, systemClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import {
  type DriverRegistrar,
  FakeCsiPlugin,
  parseCsiExchange,
  startDriverRegistrar,
  withRootDirPlaceholder,
} from '@nodeagent/testing/csi';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { registerVolumeStatsMetrics } from '../src/metrics-collectors/volume-stats-metrics';
import { CSI_PLUGIN } from '../src/pluginmanager/plugin-handler';
import { PluginManager } from '../src/pluginmanager/plugin-manager';
import { apiCsiNodeInfo } from '../src/volumes/csi/api-csi-node-info';
import { apiCsiStorageObjects } from '../src/volumes/csi/api-csi-storage-objects';
import { CsiDrivers } from '../src/volumes/csi/csi-drivers';
import { CsiRegistrationHandler } from '../src/volumes/csi/csi-registration-handler';
import { attachmentName } from '../src/volumes/csi/csi-volume-paths';
import { CsiVolumes } from '../src/volumes/csi/csi-volumes';
import { RecordingMounter } from '../src/volumes/mounter';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { PodVolumesNotReadyError } from '../src/volumes/volumes-not-ready';
import { waitFor } from './helpers/wait-for';

// The objects of the recorded upstream run (fidelity/node-plugins-v1.36): its node, driver,
// pods, claim and provisioned volume, so the requests compare field for field.
const fidelity = join(import.meta.dirname, '..', '..', '..', 'fidelity', 'node-plugins-v1.36');
const quiet = { info() {}, warn() {}, error() {} };
const NODE = 'np-upstream';
const DRIVER = 'hostpath.csi.k8s.io';
const PV = 'pvc-189996e2-5520-4b8a-8c40-238045bcf431';
const HANDLE = '2c5a336b-ebf2-11f1-845d-566c7419322e';
const INLINE_UID = '6f3fd40a-60b0-4d4b-aa42-83211acc6196';
const PV_UID = '7f3bd919-ed22-48a8-b9da-2476b718c3be';

const inlinePod: Pod = {
  metadata: { name: 'np-csi-inline-upstream', namespace: 'default', uid: INLINE_UID },
  spec: {
    serviceAccountName: 'default',
    containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'v', mountPath: '/data' }] }],
    volumes: [{ name: 'v', csi: { driver: DRIVER } }],
  },
};
const pvPod: Pod = {
  metadata: { name: 'np-csi-pv-upstream', namespace: 'default', uid: PV_UID },
  spec: {
    serviceAccountName: 'default',
    containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'np-csi-pv-claim' } }],
  },
};

let server: ApiServer;
let core: CoreV1Api;
let storage: StorageV1Api;
let root: string;
let plugin: FakeCsiPlugin;
let pm: PluginManager;
let registrar: DriverRegistrar;
let volumes: PodVolumeManager;
let csiVolumes: CsiVolumes;

beforeEach(async () => {
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
  storage = server.kubeConfig().makeApiClient(StorageV1Api);
  await core.createNode({ body: { metadata: { name: NODE } } });
  await storage.createCSIDriver({
    body: {
      metadata: { name: DRIVER },
      spec: {
        attachRequired: false,
        podInfoOnMount: true,
        volumeLifecycleModes: ['Persistent', 'Ephemeral'],
      },
    },
  });
  const claim = await core.createNamespacedPersistentVolumeClaim({
    namespace: 'default',
    body: {
      metadata: { name: 'np-csi-pv-claim' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } }, volumeName: PV },
    },
  });
  await core.replaceNamespacedPersistentVolumeClaimStatus({
    name: 'np-csi-pv-claim',
    namespace: 'default',
    body: { ...claim, status: { phase: 'Bound' } },
  });
  await core.createPersistentVolume({
    body: {
      metadata: { name: PV },
      spec: {
        accessModes: ['ReadWriteOnce'],
        capacity: { storage: '1Mi' },
        claimRef: { namespace: 'default', name: 'np-csi-pv-claim', uid: claim.metadata?.uid },
        csi: {
          driver: DRIVER,
          volumeHandle: HANDLE,
          volumeAttributes: {
            'storage.kubernetes.io/csiProvisionerIdentity': '1795956077999-7378-hostpath.csi.k8s.io',
          },
        },
      },
    },
  });
  root = await mkdtemp(join(tmpdir(), 'na-csi-volumes-'));
  plugin = await FakeCsiPlugin.start({
    driverName: DRIVER,
    nodeId: NODE,
    topology: { 'topology.hostpath.csi/node': NODE },
    socketPath: join(root, 'hostpath.sock'),
  });
  const drivers = new CsiDrivers();
  pm = new PluginManager({ rootDir: root, clock: systemClock, logger: quiet });
  pm.addHandler(CSI_PLUGIN, new CsiRegistrationHandler(drivers, apiCsiNodeInfo(NODE, core, storage), quiet));
  await pm.start();
  registrar = await startDriverRegistrar({
    registrationDir: join(root, 'plugins_registry'),
    driverName: DRIVER,
    endpoint: plugin.socketPath,
  });
  await waitFor('the driver registered', () => drivers.names().includes(DRIVER), 30_000);
  csiVolumes = new CsiVolumes({
    rootDir: root,
    nodeName: NODE,
    drivers,
    objects: apiCsiStorageObjects(core, storage),
  });
  volumes = new PodVolumeManager({
    rootDir: root,
    mounter: new RecordingMounter(),
    csi: csiVolumes,
  });
});

afterEach(async () => {
  pm.stop();
  await registrar.stop();
  await plugin.stop();
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('CSI volumes', () => {
  it("sends the calls and requests upstream's kubelet sent for an inline volume and a claim, and tears both down", async () => {
    const inline = await volumes.setUp(inlinePod, { objects: {} as never });
    const claim = await volumes.setUp(pvPod, { objects: {} as never });
    const inlineTarget = join(root, 'pods', INLINE_UID, 'volumes', 'kubernetes.io~csi', 'v', 'mount');
    const pvTarget = join(root, 'pods', PV_UID, 'volumes', 'kubernetes.io~csi', PV, 'mount');
    expect(inline.get('v')).toEqual({ hostPath: inlineTarget, readOnly: false });
    expect(claim.get('data')).toEqual({ hostPath: pvTarget, readOnly: false });
    expect(JSON.parse(await readFile(join(inlineTarget, '..', 'vol_data.json'), 'utf8'))).toMatchObject({
      specVolID: 'v',
      driverName: DRIVER,
      nodeName: NODE,
      volumeLifecycleMode: 'Ephemeral',
      volumeHandle: 'csi-20f74b6322ddee743e5b97dc16c04e857fe0d69a0e3e0067072fff30f05358fe',
    });

    const recorded = parseCsiExchange(
      await readFile(join(fidelity, 'csi-hostpath-exchange.txt'), 'utf8'),
    ).filter(([m]) => m.startsWith('/csi.v1.Node/'));
    const setUpEnd = recorded.findIndex(([m]) => m === '/csi.v1.Node/NodeUnpublishVolume');
    // Registration and set-up: the same calls, in the same order, with the same requests.
    expect(withRootDirPlaceholder(plugin.exchange(), root)).toEqual(recorded.slice(0, setUpEnd));

    // Only the claim's volume is attachable: the inline one is not in use as far as the Node says.
    expect(volumes.volumesInUse()).toEqual([`kubernetes.io/csi/${DRIVER}^${HANDLE}`]);
    // Both pods deleted together, as in the recording: both unpublished (in either order: upstream
    // runs them at once), then the claim's volume unstaged, with the same requests.
    await Promise.all([volumes.tearDown(PV_UID), volumes.tearDown(INLINE_UID)]);
    expect(volumes.volumesInUse()).toEqual([]);
    const teardown = withRootDirPlaceholder(plugin.exchange().slice(setUpEnd), root);
    const expected = recorded.slice(setUpEnd);
    const sortKey = (c: unknown) => JSON.stringify(c);
    expect([...teardown.slice(0, 2)].sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
      [...expected.slice(0, 2)].sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    );
    expect(teardown.slice(2)).toEqual(expected.slice(2));
    expect(expected.map(([m]) => m.split('/').at(-1))).toEqual([
      'NodeUnpublishVolume',
      'NodeUnpublishVolume',
      'NodeGetCapabilities',
      'NodeUnstageVolume',
    ]);
    expect(plugin.published.size).toBe(0);
    expect(plugin.staged.size).toBe(0);
    await expect(stat(join(root, 'pods', PV_UID))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(root, 'plugins', 'kubernetes.io', 'csi', DRIVER))).resolves.toBeDefined();
  });

  it('stages a claim once for two pods and unstages it only when the last one goes', async () => {
    const second: Pod = { ...pvPod, metadata: { ...pvPod.metadata, name: 'second', uid: 'uid-second' } };
    await volumes.setUp(pvPod, { objects: {} as never });
    await volumes.setUp(second, { objects: {} as never });
    const count = (rpc: string) => plugin.calls.filter((c) => c.method.endsWith(`/${rpc}`)).length;
    expect(count('NodeStageVolume')).toBe(1);
    expect(count('NodePublishVolume')).toBe(2);
    await volumes.tearDown(PV_UID);
    expect(count('NodeUnstageVolume')).toBe(0);
    expect(plugin.staged.size).toBe(1);
    await volumes.tearDown('uid-second');
    expect(count('NodeUnstageVolume')).toBe(1);
    expect(plugin.staged.size).toBe(0);
  });

  it('keeps a pod waiting with a FailedMount naming the driver error when staging fails, leaving nothing published', async () => {
    plugin.failNext('NodeStageVolume', { code: 13, message: 'disk on fire' });
    const error = await volumes.setUp(pvPod, { objects: {} as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodVolumesNotReadyError);
    expect((error as PodVolumesNotReadyError).events).toEqual([
      `MountVolume.MountDevice failed for volume "${PV}" : rpc error: code = Internal desc = disk on fire`,
    ]);
    expect(plugin.published.size).toBe(0);
    expect(plugin.staged.size).toBe(0);
    await expect(stat(join(root, 'plugins', 'kubernetes.io', 'csi', DRIVER))).resolves.toBeDefined();
    // The next try stages again: the failed one left nothing that reads as staged.
    await csiVolumes.setUpClaim(pvPod, pvPod.spec.volumes?.[0] as never);
    expect(plugin.calls.filter((c) => c.method.endsWith('/NodeStageVolume'))).toHaveLength(2);
    expect(plugin.staged.size).toBe(1);
    expect(plugin.published.size).toBe(1);
  });

  it('waits for the VolumeAttachment of a driver that needs attaching, then stages with its metadata as publish_context', async () => {
    await storage.patchCSIDriver(
      { name: DRIVER, body: { spec: { attachRequired: true } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const unique = `kubernetes.io/csi/${DRIVER}^${HANDLE}`;
    // Upstream's verifyControllerAttachedVolume first: reported in use, then listed as attached
    // by the attach-detach controller; until then the volume is unattached and no event is posted.
    const waiting = (await volumes
      .setUp(pvPod, { objects: {} as never })
      .catch((e: unknown) => e)) as PodVolumesNotReadyError;
    expect(waiting).toBeInstanceOf(PodVolumesNotReadyError);
    expect(waiting.events).toEqual([]);
    const notInUse = await csiVolumes
      .setUpClaim(pvPod, pvPod.spec.volumes?.[0] as never)
      .catch((e: unknown) => e);
    expect((notInUse as Error).message).toBe(
      "Volume has not been added to the list of VolumesInUse in the node's volume status",
    );
    const node = await core.readNode({ name: NODE });
    await core.replaceNodeStatus({
      name: NODE,
      body: { ...node, status: { ...node.status, volumesInUse: [unique] } },
    });
    const notAttached = await csiVolumes
      .setUpClaim(pvPod, pvPod.spec.volumes?.[0] as never)
      .catch((e: unknown) => e);
    expect((notAttached as Error).message).toBe('Volume not attached according to node status');
    const inUse = await core.readNode({ name: NODE });
    await core.replaceNodeStatus({
      name: NODE,
      body: { ...inUse, status: { ...inUse.status, volumesAttached: [{ name: unique, devicePath: '' }] } },
    });
    expect(plugin.calls.filter((c) => c.method.endsWith('/NodeStageVolume'))).toEqual([]);
    const first = (await csiVolumes
      .setUpClaim(pvPod, pvPod.spec.volumes?.[0] as never)
      .catch((e: unknown) => e)) as Error;
    const attachment = attachmentName(HANDLE, DRIVER, NODE);
    expect(first.message).toContain(`volume ${HANDLE} has GET error for volume attachment ${attachment}: `);
    const va = await storage.createVolumeAttachment({
      body: {
        metadata: { name: attachment },
        spec: { attacher: DRIVER, nodeName: NODE, source: { persistentVolumeName: PV } },
      },
    });
    await storage.replaceVolumeAttachmentStatus({
      name: attachment,
      body: {
        ...va,
        status: { attached: false, attachError: { message: 'rpc error: code = Internal desc = no disk' } },
      },
    });
    const second = await csiVolumes
      .setUpClaim(pvPod, pvPod.spec.volumes?.[0] as never)
      .catch((e: unknown) => e);
    expect((second as Error).message).toBe('rpc error: code = Internal desc = no disk');
    const current = await storage.readVolumeAttachment({ name: attachment });
    await storage.replaceVolumeAttachmentStatus({
      name: attachment,
      body: { ...current, status: { attached: true, attachmentMetadata: { devicePath: '/dev/vdb' } } },
    });
    await csiVolumes.setUpClaim(pvPod, pvPod.spec.volumes?.[0] as never);
    const stage = plugin.calls.find((c) => c.method.endsWith('/NodeStageVolume'));
    const publish = plugin.calls.find((c) => c.method.endsWith('/NodePublishVolume'));
    expect(stage?.request).toMatchObject({ publish_context: { devicePath: '/dev/vdb' } });
    expect(publish?.request).toMatchObject({ publish_context: { devicePath: '/dev/vdb' } });
  });

  it("reports a claim volume's NodeGetVolumeStats as kubelet_volume_stats_*, read once per volumeStatsAggPeriod", async () => {
    const registry = new Registry();
    const clock = new FakeClock();
    registerVolumeStatsMetrics(registry, () => csiVolumes.claimVolumeStats(), clock, 60_000);
    await volumes.setUp(pvPod, { objects: {} as never });
    const series = async () =>
      (await registry.metrics()).split('\n').filter((l) => l.startsWith('kubelet_volume_stats_'));
    const labels = '{namespace="default",persistentvolumeclaim="np-csi-pv-claim"}';
    expect(await series()).toEqual([
      `kubelet_volume_stats_capacity_bytes${labels} 1073741824`,
      `kubelet_volume_stats_available_bytes${labels} 1073737728`,
      `kubelet_volume_stats_used_bytes${labels} 4096`,
      `kubelet_volume_stats_inodes${labels} 65536`,
      `kubelet_volume_stats_inodes_free${labels} 65534`,
      `kubelet_volume_stats_inodes_used${labels} 2`,
    ]);
    const statsCalls = () => plugin.calls.filter((c) => c.method.endsWith('/NodeGetVolumeStats'));
    expect(statsCalls()).toHaveLength(1);
    // Upstream's metricsCsi sends the volume's path alone, no staging path.
    expect(statsCalls()[0]?.request).toEqual({
      volume_id: HANDLE,
      volume_path: join(root, 'pods', PV_UID, 'volumes', 'kubernetes.io~csi', PV, 'mount'),
    });
    await series();
    expect(statsCalls()).toHaveLength(1);
    await volumes.tearDown(PV_UID);
    clock.advance(60_000);
    expect(await series()).toEqual([]);
  });

  it("waits on a claim that is missing, with upstream's message", async () => {
    const pod: Pod = {
      ...pvPod,
      spec: { ...pvPod.spec, volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'nope' } }] },
    };
    const error = (await volumes
      .setUp(pod, { objects: {} as never })
      .catch((e: unknown) => e)) as PodVolumesNotReadyError;
    expect(error.events[0]).toContain(
      'error processing PVC default/nope: failed to fetch PVC from API server: persistentvolumeclaims "nope" not found',
    );
    expect(plugin.calls.filter((c) => c.method !== '/csi.v1.Node/NodeGetInfo')).toEqual([]);
  });
});
