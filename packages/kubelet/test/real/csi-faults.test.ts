import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, StorageV1Api } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { FakeCsiPlugin, MountNamespace } from '@nodeagent/testing/csi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { apiCsiStorageObjects } from '../../src/volumes/csi/api-csi-storage-objects';
import { CsiDrivers } from '../../src/volumes/csi/csi-drivers';
import { csiPublishPath, csiStagingPath } from '../../src/volumes/csi/csi-volume-paths';
import { CsiVolumes } from '../../src/volumes/csi/csi-volumes';
import { RecordingMounter } from '../../src/volumes/mounter';
import { PodVolumeManager } from '../../src/volumes/pod-volume-manager';
import { PodVolumesNotReadyError } from '../../src/volumes/volumes-not-ready';
import { claimPod, createBoundClaim } from '../helpers/csi-claims';
import { waitFor } from '../helpers/wait-for';

// Each fault against the fake driver making real bind mounts in a mount namespace this test
// owns; after each, the namespace's mount table is what it was before the pod came.
const DRIVER = 'faults.csi.test';
// Long enough that no answering call misses it on a loaded machine; a hung call waits it out.
const CSI_TIMEOUT_MS = 3_000;

let server: ApiServer;
let core: CoreV1Api;
let ns: MountNamespace;
let root: string;
let plugin: FakeCsiPlugin;
let drivers: CsiDrivers;
let volumes: PodVolumeManager;
let now: number;
let baseline: string[];

async function startPlugin(): Promise<FakeCsiPlugin> {
  return FakeCsiPlugin.start({
    driverName: DRIVER,
    nodeId: 'node-f',
    socketPath: join(root, 'driver', 'csi.sock'),
    stateDir: join(root, 'driver', 'state'),
    mounter: ns.mounter(),
  });
}

const ours = async () => (await ns.mountPoints()).filter((p) => p.startsWith(root)).sort();
const calls = (rpc: string) => plugin.calls.filter((c) => c.method.endsWith(`/${rpc}`)).length;
/** A set-up expected to leave the pod waiting: its PodVolumesNotReadyError. */
const setUp = (pod: Pod): Promise<PodVolumesNotReadyError> =>
  volumes.setUp(pod, { objects: {} as never }).then(
    () => {
      throw new Error('expected the set-up to wait');
    },
    (e: unknown) => e as PodVolumesNotReadyError,
  );

beforeEach(async () => {
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
  const storage = server.kubeConfig().makeApiClient(StorageV1Api);
  await storage.createCSIDriver({
    body: {
      metadata: { name: DRIVER },
      spec: { attachRequired: false, volumeLifecycleModes: ['Persistent', 'Ephemeral'] },
    },
  });
  await createBoundClaim(core, DRIVER, 'data', 'pv-data', 'vol-data');
  ns = await MountNamespace.start();
  root = await mkdtemp(join(tmpdir(), 'na-csi-faults-'));
  plugin = await startPlugin();
  drivers = new CsiDrivers(CSI_TIMEOUT_MS);
  drivers.set({ name: DRIVER, endpoint: plugin.endpoint, highestSupportedVersion: '1.0.0' });
  now = Date.now();
  volumes = new PodVolumeManager({
    rootDir: root,
    mounter: new RecordingMounter(),
    now: () => new Date(now),
    csi: new CsiVolumes({
      rootDir: root,
      nodeName: 'node-f',
      drivers,
      objects: apiCsiStorageObjects(core, storage),
    }),
  });
  baseline = await ours();
});

afterEach(async () => {
  for (const name of drivers?.names() ?? []) drivers.delete(name);
  await plugin?.stop();
  await ns?.stop();
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('CSI faults (real bind mounts in a mount namespace the test owns)', () => {
  it("a driver that hangs: upstream's deadline, FailedMount in its words, exponential back-off; a later try mounts, teardown leaves no mount", async () => {
    const pod = claimPod('hang', 'uid-hang', 'data');
    plugin.failNext('NodeStageVolume', 'hang');
    const first = await setUp(pod);
    expect(first).toBeInstanceOf(PodVolumesNotReadyError);
    expect(first.events).toEqual([
      'MountVolume.MountDevice failed for volume "pv-data" : rpc error: code = DeadlineExceeded desc = context deadline exceeded',
    ]);
    expect(first.retryAfterMs).toBe(500);
    // Inside the back-off nothing is tried and nothing is posted.
    const held = await setUp(pod);
    expect(held.events).toEqual([]);
    expect(calls('NodeStageVolume')).toBe(1);
    // The next failure doubles the wait.
    now += 500;
    plugin.failNext('NodeStageVolume', 'hang');
    expect((await setUp(pod)).retryAfterMs).toBe(1000);
    now += 1000;
    const mounted = await volumes.setUp(pod, { objects: {} as never });
    expect(mounted.get('data')?.hostPath).toBe(csiPublishPath(root, 'uid-hang', 'pv-data'));
    expect(await ours()).toEqual(
      [
        ...baseline,
        csiStagingPath(root, DRIVER, 'vol-data'),
        csiPublishPath(root, 'uid-hang', 'pv-data'),
      ].sort(),
    );
    await volumes.tearDown('uid-hang');
    expect(await ours()).toEqual(baseline);
  });

  it('a pod deleted after its stage timed out: teardown still unstages (the stage was unfinished, not failed)', async () => {
    const pod = claimPod('hang', 'uid-hang', 'data');
    plugin.failNext('NodeStageVolume', 'hang');
    expect((await setUp(pod)).events).toHaveLength(1);
    await volumes.tearDown('uid-hang');
    expect(calls('NodeUnstageVolume')).toBe(1);
    expect(calls('NodeUnpublishVolume')).toBe(0);
    expect(await ours()).toEqual(baseline);
    await expect(stat(join(root, 'plugins', 'kubernetes.io', 'csi', DRIVER))).resolves.toBeDefined();
    expect(await readdir(join(root, 'plugins', 'kubernetes.io', 'csi', DRIVER))).toEqual([]);
  });

  it('a driver socket that disappears mid-mount: Unavailable, then the restarted driver mounts on the next try; teardown leaves no mount', async () => {
    drivers.delete(DRIVER);
    drivers = new CsiDrivers(30_000);
    drivers.set({ name: DRIVER, endpoint: plugin.endpoint, highestSupportedVersion: '1.0.0' });
    volumes = new PodVolumeManager({
      rootDir: root,
      mounter: new RecordingMounter(),
      now: () => new Date(now),
      csi: new CsiVolumes({
        rootDir: root,
        nodeName: 'node-f',
        drivers,
        objects: apiCsiStorageObjects(core, server.kubeConfig().makeApiClient(StorageV1Api)),
      }),
    });
    const pod = claimPod('gone', 'uid-gone', 'data');
    plugin.failNext('NodeStageVolume', 'hang');
    const pending = setUp(pod);
    await waitFor('the stage call', () => calls('NodeStageVolume') === 1, 30_000);
    await plugin.stop();
    const failed = await pending;
    expect(failed.events).toEqual([
      expect.stringMatching(
        /^MountVolume\.MountDevice failed for volume "pv-data" : rpc error: code = (Unavailable|Canceled) desc = /,
      ),
    ]);
    await expect(stat(plugin.socketPath)).rejects.toThrow(/ENOENT/);
    plugin = await startPlugin();
    const mounted = await waitFor(
      'the set-up through the restarted driver',
      async () => {
        now += 200_000;
        const result = await volumes.setUp(pod, { objects: {} as never }).catch(() => undefined);
        return result?.get('data');
      },
      30_000,
      200,
    );
    expect(mounted.hostPath).toBe(csiPublishPath(root, 'uid-gone', 'pv-data'));
    await volumes.tearDown('uid-gone');
    expect(await ours()).toEqual(baseline);
  });

  it('a stage that fails: the pod waits, nothing is mounted and nothing is left that passes for staged', async () => {
    const pod = claimPod('fail', 'uid-fail', 'data');
    plugin.failNext('NodeStageVolume', { code: 13, message: 'no space left on the array' });
    const error = await setUp(pod);
    expect(error.events).toEqual([
      'MountVolume.MountDevice failed for volume "pv-data" : rpc error: code = Internal desc = no space left on the array',
    ]);
    expect(calls('NodePublishVolume')).toBe(0);
    expect(await ours()).toEqual(baseline);
    expect(await readdir(join(root, 'plugins', 'kubernetes.io', 'csi', DRIVER))).toEqual([]);
    await volumes.tearDown('uid-fail');
    expect(calls('NodeUnstageVolume')).toBe(0);
    expect(await ours()).toEqual(baseline);
  });

  it("a target path outside the pod's directory is refused before the driver is called", async () => {
    const pod: Pod = {
      metadata: { name: 'escape', namespace: 'default', uid: '..' },
      spec: {
        containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'v', mountPath: '/v' }] }],
        volumes: [{ name: 'v', csi: { driver: DRIVER } }],
      },
    };
    const error = await setUp(pod);
    expect(error.events).toEqual([
      `MountVolume.SetUp failed for volume "v" : metadata.uid: the CSI volume "v" would be published outside the pod's directory under ${join(root, 'pods')}; refused (got "..")`,
    ]);
    expect(calls('NodePublishVolume')).toBe(0);
    expect(await ours()).toEqual(baseline);
  });
});
