import { lstat, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { buildContainerConfig, containerDevices } from '../src/cri/container-config';
import { CreateContainerConfigError } from '../src/errors';
import { csiBlockPaths } from '../src/volumes/csi/csi-block-volumes';
import {
  type CsiVolumeHarness,
  createBoundBlockClaim,
  DRIVER,
  NODE,
  setUpFailure,
  startCsiVolumeHarness,
} from './helpers/csi-volume-harness';

let h: CsiVolumeHarness;
beforeEach(async () => {
  h = await startCsiVolumeHarness({ csiDriver: { attachRequired: false, podInfoOnMount: true } });
  await createBoundBlockClaim(h.core, 'raw', { name: 'pv-raw', volumeHandle: 'vol-raw' });
});
afterEach(async () => {
  await h.close();
});

function blockPod(name: string, readOnly = false): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: {
      containers: [
        { name: 'c', image: 'busybox', volumeDevices: [{ name: 'disk', devicePath: '/dev/xvda' }] },
      ],
      volumes: [{ name: 'disk', persistentVolumeClaim: { claimName: 'raw', readOnly } }],
    },
  };
}

const calls = (rpc: string) =>
  h.plugin.calls.filter((c) => c.method.endsWith(`/${rpc}`)).map((c) => c.request as Record<string, unknown>);

describe('volumeMode: Block', () => {
  it("stages and publishes with a block capability at upstream's paths and gives the device to the container", async () => {
    const pod = blockPod('db');
    const volumes = await h.volumes.setUp(pod, { objects: {} as never });
    const paths = csiBlockPaths(h.root, 'pv-raw', 'uid-db');
    expect(paths.staging).toBe(join(h.root, 'plugins/kubernetes.io/csi/volumeDevices/staging/pv-raw'));
    expect(paths.publish).toBe(join(h.root, 'plugins/kubernetes.io/csi/volumeDevices/publish/pv-raw/uid-db'));
    expect(paths.podDevice).toBe(join(h.root, 'pods/uid-db/volumeDevices/kubernetes.io~csi/pv-raw'));
    expect(volumes.get('disk')).toEqual({ hostPath: paths.podDevice, readOnly: false, block: true });

    const capability = { access_mode: { mode: 'SINGLE_NODE_MULTI_WRITER' }, block: {} };
    expect(calls('NodeStageVolume')).toEqual([
      { volume_id: 'vol-raw', staging_target_path: paths.staging, volume_capability: capability },
    ]);
    expect(calls('NodePublishVolume')).toEqual([
      {
        volume_id: 'vol-raw',
        staging_target_path: paths.staging,
        target_path: paths.publish,
        volume_capability: capability,
        volume_context: {
          'csi.storage.k8s.io/pod.name': 'db',
          'csi.storage.k8s.io/pod.namespace': 'default',
          'csi.storage.k8s.io/pod.uid': 'uid-db',
          'csi.storage.k8s.io/serviceAccount.name': 'default',
          'csi.storage.k8s.io/ephemeral': 'false',
        },
      },
    ]);
    // The driver's device node behind the pod's link; vol_data.json beside the volume's map path.
    expect(await readlink(paths.podDevice)).toBe(paths.publish);
    expect((await stat(paths.podDevice)).isBlockDevice()).toBe(true);
    expect(JSON.parse(await readFile(join(paths.data, 'vol_data.json'), 'utf8'))).toMatchObject({
      specVolID: 'pv-raw',
      volumeHandle: 'vol-raw',
      driverName: DRIVER,
      nodeName: NODE,
    });
    expect(h.volumes.volumesInUse()).toEqual([`kubernetes.io/csi/${DRIVER}^vol-raw`]);
    // Upstream's MapBlockVolume lock: the device bound on volumeDevices/<pv>/dev/<pod uid>, a loop device over it.
    const lock = join(h.root, 'plugins/kubernetes.io/csi/volumeDevices/pv-raw/dev/uid-db');
    expect(paths.globalMap).toBe(join(h.root, 'plugins/kubernetes.io/csi/volumeDevices/pv-raw/dev'));
    expect(h.mounter.deviceBinds).toEqual(new Map([[lock, paths.publish]]));
    expect(h.mounter.loopDevices).toEqual(new Set([lock]));

    const config = buildContainerConfig(pod, pod.spec.containers[0]!, {
      restartCount: 0,
      env: [],
      volumes,
      memoryCapacity: 1024 ** 3,
    });
    expect(config.devices).toEqual([
      { containerPath: '/dev/xvda', hostPath: paths.podDevice, permissions: 'mrw' },
    ]);
    expect(config.mounts).toEqual([]);
    // A second sync maps nothing again.
    await h.volumes.setUp(pod, { objects: {} as never });
    expect(calls('NodePublishVolume')).toHaveLength(1);
  });

  it('unpublishes each pod and unstages once the last one is gone, leaving no file behind', async () => {
    const first = blockPod('a');
    const second = blockPod('b', true);
    await h.volumes.setUp(first, { objects: {} as never });
    const ro = await h.volumes.setUp(second, { objects: {} as never });
    expect(calls('NodeStageVolume')).toHaveLength(1);
    expect(calls('NodePublishVolume').map((r) => r.readonly ?? false)).toEqual([false, true]);
    expect(containerDevices(second.spec.containers[0]!, ro)[0]?.permissions).toBe('r');

    await h.volumes.tearDown('uid-a');
    expect(calls('NodeUnpublishVolume')).toEqual([
      { volume_id: 'vol-raw', target_path: csiBlockPaths(h.root, 'pv-raw', 'uid-a').publish },
    ]);
    expect(calls('NodeUnstageVolume')).toEqual([]);
    // Only the first pod's lock is released.
    const locks = (uid: string) => join(h.root, 'plugins/kubernetes.io/csi/volumeDevices/pv-raw/dev', uid);
    expect([...h.mounter.loopDevices]).toEqual([locks('uid-b')]);
    expect([...h.mounter.deviceBinds.keys()]).toEqual([locks('uid-b')]);
    await h.volumes.tearDown('uid-b');
    expect(h.mounter.loopDevices.size).toBe(0);
    expect(h.mounter.deviceBinds.size).toBe(0);
    const paths = csiBlockPaths(h.root, 'pv-raw', 'uid-b');
    expect(calls('NodeUnstageVolume')).toEqual([
      { volume_id: 'vol-raw', staging_target_path: paths.staging },
    ]);
    for (const gone of [paths.publish, paths.staging, paths.data, paths.podDevice, join(paths.publish, '..')])
      await expect(lstat(gone)).rejects.toThrow(/ENOENT/);
    expect(h.plugin.published.size).toBe(0);
    expect(h.volumes.volumesInUse()).toEqual([]);
  });

  it("refuses a block volume in volumeMounts and a volumeDevice that is no block volume, in upstream's words", async () => {
    const pod = blockPod('c');
    const volumes = await h.volumes.setUp(pod, { objects: {} as never });
    const mounting = { name: 'c', image: 'busybox', volumeMounts: [{ name: 'disk', mountPath: '/data' }] };
    expect(() =>
      buildContainerConfig(pod, mounting, { restartCount: 0, env: [], volumes, memoryCapacity: 1024 ** 3 }),
    ).toThrow(CreateContainerConfigError);
    // The claim's volume used the other way round waits with upstream's populator error.
    const mounted: Pod = { ...pod, metadata: { ...pod.metadata, uid: 'uid-mounted' } };
    mounted.spec = { ...pod.spec, containers: [mounting] };
    expect((await setUpFailure(h.volumes, mounted)).events).toEqual([
      'MountVolume.SetUp failed for volume "disk" : volume disk has volumeMode Block, but is specified in volumeMounts',
    ]);
    const wrong = {
      name: 'c',
      image: 'busybox',
      volumeDevices: [{ name: 'other', devicePath: '/dev/xvdb' }],
    };
    expect(() => containerDevices(wrong, volumes)).toThrow(
      'cannot find volume "other" to pass into container "c"',
    );
    const relative = {
      name: 'c',
      image: 'busybox',
      volumeDevices: [{ name: 'disk', devicePath: 'dev/xvdb' }],
    };
    expect(() => containerDevices(relative, volumes)).toThrow(
      'error DevicePath `dev/xvdb` must be an absolute path',
    );
  });

  it('unmaps, unpublishes and unstages the block volume of a pod deleted while the kubelet was down, once the sources are ready', async () => {
    const gone = blockPod('gone');
    await h.volumes.setUp(gone, { objects: {} as never });
    const paths = csiBlockPaths(h.root, 'pv-raw', 'uid-gone');
    // The kubelet restarts; the pod was deleted meanwhile.
    const next = h.restartVolumes();
    await next.reconstruct();
    expect(calls('NodeUnpublishVolume')).toEqual([]);
    await next.cleanUpOrphans(new Set(), new Set());
    expect(calls('NodeUnpublishVolume')).toEqual([{ volume_id: 'vol-raw', target_path: paths.publish }]);
    expect(calls('NodeUnstageVolume')).toEqual([
      { volume_id: 'vol-raw', staging_target_path: paths.staging },
    ]);
    await expect(lstat(paths.podDevice)).rejects.toThrow(/ENOENT/);
    expect(h.plugin.published.size).toBe(0);
  });

  it('leaves the block volume of a pod still there mapped after a restart', async () => {
    const keep = blockPod('keep');
    await h.volumes.setUp(keep, { objects: {} as never });
    const next = h.restartVolumes();
    await next.reconstruct();
    await next.cleanUpOrphans(new Set(['uid-keep']), new Set());
    expect(calls('NodeUnpublishVolume')).toEqual([]);
    expect(await readlink(csiBlockPaths(h.root, 'pv-raw', 'uid-keep').podDevice)).toBe(
      csiBlockPaths(h.root, 'pv-raw', 'uid-keep').publish,
    );
  });
});
