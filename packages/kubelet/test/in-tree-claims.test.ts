import { lstat, mkdir, mkdtemp, readlink, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1PersistentVolumeSpec } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { MOUNT_OPTION_ANNOTATION, mountOptionsFromPV } from '../src/volumes/mount-options';
import type { NfsMounter } from '../src/volumes/nfs-mount';
import { PodVolumesNotReadyError } from '../src/volumes/volumes-not-ready';
import { bindClaim, type CsiVolumeHarness, startCsiVolumeHarness } from './helpers/csi-volume-harness';
import { flexDriverCalls, installFlexDriver } from './helpers/flex-driver';

let h: CsiVolumeHarness | undefined;
let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), `na-kubelet-in-tree-claims-${process.pid}-`));
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  await rm(scratch, { recursive: true, force: true });
});

/** mount(8) as a host without the NFS helper answers: refused before any traffic. */
const nfsCalls: string[][] = [];
const refusingNfs: NfsMounter = {
  helper: async () => undefined,
  run: async (args) => {
    nfsCalls.push(args);
    return {
      code: 32,
      output: `mount: ${args.at(-1)}: bad option; for several filesystems you might need a /sbin/mount.<type> helper program.\n`,
    };
  },
};

/** A harness with claim `data` bound to PersistentVolume `pv-data` of `source` (no CSI source). */
async function claimOf(
  source: Omit<Partial<V1PersistentVolumeSpec>, 'capacity'>,
  nodeLabels?: () => Record<string, string>,
  volumeMode?: 'Block',
): Promise<CsiVolumeHarness> {
  const t = await startCsiVolumeHarness({
    csiDriver: { attachRequired: false },
    ...(nodeLabels ? { csi: { nodeLabels } } : {}),
    nfs: refusingNfs,
    volumePluginDir: join(scratch, 'volume-plugins'),
  });
  h = t;
  await t.core.createNamespacedPersistentVolumeClaim({
    namespace: 'default',
    body: {
      metadata: { name: 'data' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Mi' } },
        ...(volumeMode ? { volumeMode } : {}),
      },
    },
  });
  await bindClaim(t.core, 'default', 'data', {
    name: 'pv-data',
    volumeHandle: '',
    csi: undefined,
    ...source,
  });
  return t;
}

function podOf(readOnly = false): Pod {
  return {
    metadata: { name: 'db', namespace: 'default', uid: 'uid-db' },
    spec: {
      containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data', readOnly } }],
    },
  };
}

const localAffinity = {
  required: {
    nodeSelectorTerms: [
      { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] },
    ],
  },
};

describe('claims bound to hostPath, local and nfs PersistentVolumes (upstream in-tree plugins)', () => {
  it('hostPath: the node path itself, after its type check, read-only as the claim is', async () => {
    const path = join(scratch, 'local-path', 'pvc-1');
    const t = await claimOf({ hostPath: { path, type: 'DirectoryOrCreate' } });
    const mounted = await t.volumes.setUp(podOf(true), { objects: {} as never });
    expect(mounted.get('d')).toEqual({ hostPath: path, readOnly: true });
    expect((await stat(path)).isDirectory()).toBe(true);
    // Upstream's hostPath plugin has no metrics: nothing in the summary or kubelet_volume_stats_*.
    expect(await t.volumes.csiVolumeStats('uid-db')).toEqual(new Map());
    expect(await t.volumes.claimVolumeStats()).toEqual([]);
  });

  it('local: bind-mounted with its mount options on the pod volume directory once, unmounted at teardown', async () => {
    const path = join(scratch, 'disks', 'ssd0');
    await mkdir(path, { recursive: true });
    const t = await claimOf({
      local: { path },
      nodeAffinity: localAffinity,
      mountOptions: ['noexec', 'nodev'],
    });
    const dir = join(t.root, 'pods', 'uid-db', 'volumes', 'kubernetes.io~local-volume', 'pv-data');
    const mounted = await t.volumes.setUp(podOf(), { objects: {} as never });
    expect(mounted.get('d')).toEqual({ hostPath: dir, readOnly: false });
    expect(t.mounter.binds.get(dir)).toEqual({ source: path, readOnly: false, options: ['nodev', 'noexec'] });
    await t.volumes.setUp(podOf(), { objects: {} as never });
    expect(t.mounter.binds.size).toBe(1);
    // Measured by statfs, as upstream's local plugin (MetricsStatFS): for the summary and kubelet_volume_stats_*.
    const fs = await statfs(dir);
    const usage = {
      capacityBytes: fs.blocks * fs.bsize,
      inodes: fs.files,
    };
    const stats = (await t.volumes.csiVolumeStats('uid-db')).get('d');
    expect(stats).toMatchObject({ ...usage, pvcRef: { name: 'data', namespace: 'default' } });
    expect(await t.volumes.claimVolumeStats()).toEqual([
      expect.objectContaining({ namespace: 'default', claim: 'data', ...usage }),
    ]);
    await t.volumes.tearDown('uid-db');
    expect(t.mounter.binds.size).toBe(0);
    expect(await t.volumes.claimVolumeStats()).toEqual([]);
  });

  it("refuses a PersistentVolume whose node affinity this node's labels do not match, in upstream's words", async () => {
    const path = join(scratch, 'disks', 'ssd1');
    await mkdir(path, { recursive: true });
    let hostname = 'n2';
    const t = await claimOf({ local: { path }, nodeAffinity: localAffinity }, () => ({
      'kubernetes.io/hostname': hostname,
    }));
    const error = await t.volumes.setUp(podOf(), { objects: {} as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodVolumesNotReadyError);
    expect((error as PodVolumesNotReadyError).events).toEqual([
      'MountVolume.NodeAffinity check failed for volume "pv-data" : no matching NodeSelectorTerms',
    ]);
    expect(t.mounter.binds.size).toBe(0);
    hostname = 'n1';
    // The node matches now: another pod on the claim (outside the first one's mount back-off) mounts it.
    const other = { ...podOf(), metadata: { ...podOf().metadata, uid: 'uid-db2' } };
    const mounted = await t.volumes.setUp(other, { objects: {} as never });
    expect(mounted.get('d')?.hostPath).toMatch(/kubernetes\.io~local-volume\/pv-data$/);
  });

  it('flexVolume: through its driver, named for the PersistentVolume, read-only as the claim is', async () => {
    const driver = await installFlexDriver(join(scratch, 'volume-plugins'), 'share');
    const t = await claimOf({
      flexVolume: { driver: 'vendor/share', fsType: 'cifs', options: { server: '192.0.2.7' } },
    });
    const dir = join(t.root, 'pods', 'uid-db', 'volumes', 'vendor~share', 'pv-data');
    const mounted = await t.volumes.setUp(podOf(true), { objects: {} as never });
    expect(mounted.get('d')).toEqual({ hostPath: dir, readOnly: true });
    const [, mount] = await flexDriverCalls(driver);
    expect(mount?.slice(0, 2)).toEqual(['mount', dir]);
    expect(JSON.parse(mount?.[2] ?? '{}')).toMatchObject({
      'kubernetes.io/pvOrVolumeName': 'pv-data',
      'kubernetes.io/readwrite': 'ro',
      server: '192.0.2.7',
    });
  });

  it('nfs: mount(8) with its mount options on the pod volume directory, its failure a FailedMount naming the PersistentVolume', async () => {
    const t = await claimOf({
      nfs: { server: '192.0.2.9', path: '/exports/a', readOnly: true },
      mountOptions: ['nfsvers=4.1', 'hard'],
    });
    nfsCalls.length = 0;
    const error = await t.volumes.setUp(podOf(), { objects: {} as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodVolumesNotReadyError);
    const dir = join(t.root, 'pods', 'uid-db', 'volumes', 'kubernetes.io~nfs', 'pv-data');
    // Upstream's nfs plugin takes read-only from the claim, not the PersistentVolume's own field.
    // The PersistentVolume's options sorted, as upstream's JoinMountOptions gives them.
    expect(nfsCalls).toEqual([['-t', 'nfs', '-o', 'hard,nfsvers=4.1', '192.0.2.9:/exports/a', dir]]);
    expect((error as PodVolumesNotReadyError).events[0]).toMatch(
      /^MountVolume\.SetUp failed for volume "pv-data" : mount failed: exit status 32\n/,
    );
  });

  it("local, volumeMode Block: the PersistentVolume's device bound and loop-held under the plugin's volumeDevices, linked under the pod's for the runtime, unmeasured, all gone with the pod", async () => {
    const device = join(scratch, 'dev', 'nvme1n1');
    await mkdir(join(scratch, 'dev'), { recursive: true });
    await writeFile(device, '');
    const t = await claimOf({ local: { path: device }, nodeAffinity: localAffinity }, undefined, 'Block');
    const pod = podOf();
    pod.spec.containers[0] = {
      name: 'c',
      image: 'busybox',
      volumeDevices: [{ name: 'd', devicePath: '/dev/xvda' }],
    };
    const link = join(t.root, 'pods', 'uid-db', 'volumeDevices', 'kubernetes.io~local-volume', 'pv-data');
    const mounted = await t.volumes.setUp(pod, { objects: {} as never });
    expect(mounted.get('d')).toEqual({ hostPath: link, readOnly: false, block: true });
    expect(await readlink(link)).toBe(device);
    expect(t.mounter.binds.size).toBe(0);
    // Upstream's MapBlockVolume: the device bound on <globalMapPath>/<pod uid>, a loop device over it.
    const lock = join(t.root, 'plugins', 'kubernetes.io~local-volume', 'volumeDevices', 'pv-data', 'uid-db');
    expect(t.mounter.deviceBinds).toEqual(new Map([[lock, device]]));
    expect(t.mounter.loopDevices).toEqual(new Set([lock]));
    // Upstream measures a block volume's device size (MetricsBlock), not a filesystem: no statfs figures.
    expect(await t.volumes.csiVolumeStats('uid-db')).toEqual(new Map());
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(await readlink(link)).toBe(device);
    await t.volumes.tearDown('uid-db');
    await expect(readlink(link)).rejects.toThrow(/ENOENT/);
    expect(t.mounter.deviceBinds.size).toBe(0);
    expect(t.mounter.loopDevices.size).toBe(0);
    await expect(lstat(lock)).rejects.toThrow(/ENOENT/);
  });

  it("local, volumeMode Block: a device that is not there fails in upstream's words", async () => {
    const device = join(scratch, 'dev', 'gone');
    const t = await claimOf({ local: { path: device }, nodeAffinity: localAffinity }, undefined, 'Block');
    const pod = podOf();
    pod.spec.containers[0] = {
      name: 'c',
      image: 'busybox',
      volumeDevices: [{ name: 'd', devicePath: '/dev/xvda' }],
    };
    const error = await t.volumes.setUp(pod, { objects: {} as never }).catch((e: unknown) => e);
    const global = join(t.root, 'plugins', 'kubernetes.io~local-volume', 'volumeDevices', 'pv-data');
    expect((error as PodVolumesNotReadyError).events).toEqual([
      `MapVolume.MapBlockVolume failed for volume "pv-data" : blkUtil.MapDevice failed. devicePath: ${device}, globalMapPath:${global}, podUID: uid-db, bindMount: true: stat ${device}: no such file or directory`,
    ]);
  });

  it("local: a path neither a directory nor a block device, or not there, is refused as upstream's NewMounter refuses it", async () => {
    const file = join(scratch, 'not-a-disk');
    await writeFile(file, '');
    const t = await claimOf({ local: { path: file }, nodeAffinity: localAffinity });
    const error = await t.volumes.setUp(podOf(), { objects: {} as never }).catch((e: unknown) => e);
    expect((error as PodVolumesNotReadyError).events).toEqual([
      'MountVolume.NewMounter initialization failed for volume "pv-data" : only directory and block device are supported',
    ]);
    await rm(file);
    const other = { ...podOf(), metadata: { ...podOf().metadata, uid: 'uid-db2' } };
    const missing = await t.volumes.setUp(other, { objects: {} as never }).catch((e: unknown) => e);
    expect((missing as PodVolumesNotReadyError).events).toEqual([
      `MountVolume.NewMounter initialization failed for volume "pv-data" : stat ${file}: no such file or directory`,
    ]);
    expect(t.mounter.binds.size).toBe(0);
  });

  it("refuses mount options on a hostPath PersistentVolume in upstream's words, before any set-up", async () => {
    const path = join(scratch, 'local-path', 'pvc-2');
    const t = await claimOf({ hostPath: { path, type: 'DirectoryOrCreate' }, mountOptions: ['noatime'] });
    const error = await t.volumes.setUp(podOf(), { objects: {} as never }).catch((e: unknown) => e);
    expect((error as PodVolumesNotReadyError).events).toEqual([
      'MountVolume.MountOptionSupport check failed for volume "pv-data" : Mount options are not supported for this volume type',
    ]);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });
});

describe("a PersistentVolume's mount options (upstream MountOptionFromSpec)", () => {
  it("reads the beta annotation before spec.mountOptions, and joins them with the plugin's own, once each, sorted", () => {
    const spec = { mountOptions: ['nodev', 'noexec'] };
    expect(mountOptionsFromPV({ spec }, 'ro')).toEqual(['nodev', 'noexec', 'ro']);
    expect(
      mountOptionsFromPV(
        { metadata: { annotations: { [MOUNT_OPTION_ANNOTATION]: 'sync,,ro' } }, spec },
        'ro',
      ),
    ).toEqual(['ro', 'sync']);
    expect(mountOptionsFromPV(undefined, 'bind')).toEqual(['bind']);
    expect(mountOptionsFromPV({ spec: {} })).toEqual([]);
  });
});
