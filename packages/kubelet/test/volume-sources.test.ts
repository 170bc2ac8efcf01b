import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod, Volume } from '../src/api/pod-types';
import type { ObjectSource } from '../src/env/resolve-env';
import { validatePod } from '../src/pod/validate-pod';
import { MountBackOff } from '../src/volumes/mount-backoff';
import { RecordingMounter } from '../src/volumes/mounter';
import { mountNfs, type NfsMounter } from '../src/volumes/nfs-mount';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { volumeSourceHandling, volumeSourceKeys } from '../src/volumes/volume-sources';
import { makePod } from './helpers/fixtures';
import { notReady } from './helpers/volumes-not-ready';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `na-kubelet-volume-sources-${process.pid}-`));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const objects: ObjectSource = { getConfigMap: async () => undefined, getSecret: async () => undefined };

/** A pod whose container mounts each of `volumes` at /v/<name>. */
function podWith(volumes: Volume[], uid = 'uid-v'): Pod {
  return makePod(
    {
      volumes,
      containers: [
        {
          name: 'app',
          image: 'busybox',
          volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/v/${v.name}` })),
        },
      ],
    },
    { uid },
  );
}

/** An NFS mounter that records each mount(8) call and answers like util-linux without the helper. */
function fakeNfs(helper?: string): NfsMounter & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    helper: async () => helper,
    run: async (args) => {
      calls.push(args);
      return { code: 32, output: `mount: ${args.at(-1)}: unknown filesystem type 'nfs'.\n` };
    },
  };
}

/** A manager on a clock the test moves. */
function manager(nfs: NfsMounter = fakeNfs()) {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const volumes = new PodVolumeManager({
    rootDir: join(root, `kubelet-${Math.random().toString(16).slice(2)}`),
    mounter: new RecordingMounter(),
    now: () => new Date(now),
    nfs,
  });
  return { volumes, advance: (ms: number) => (now += ms) };
}

describe('volume sources without a plugin here: admitted, the pod waits as upstream v1.36', () => {
  it('validation admits every core/v1 source but gitRepo, and names the field of a bad one', () => {
    const minimal: Partial<Record<string, object>> = {
      csi: { driver: 'd' },
      nfs: { server: 's', path: '/x' },
      hostPath: { path: '/x' },
    };
    for (const key of volumeSourceKeys) {
      const errors = validatePod(podWith([{ name: 'v', [key]: minimal[key] ?? {} } as Volume]));
      const refused = volumeSourceHandling(key) === 'refused';
      expect(
        errors.map((e) => e.field),
        key,
      ).toEqual(refused ? [`spec.volumes[0].${key}`] : []);
    }
    expect(validatePod(podWith([{ name: 'v', csi: { driver: '' } }])).map((e) => e.field)).toEqual([
      'spec.volumes[0].csi.driver',
    ]);
    expect(
      validatePod(podWith([{ name: 'v', nfs: { server: 'h', path: 'rel' } }])).map((e) => e.field),
    ).toEqual(['spec.volumes[0].nfs']);
    expect(
      validatePod(podWith([{ name: 'v', csi: { driver: 'd' }, nfs: { server: 'h', path: '/x' } }]))[0]
        ?.message,
    ).toContain('must specify exactly one volume source, got nfs, csi');
  });

  it('csi: SetUp fails with the unregistered-driver message, retried on the 500 ms doubling back-off', async () => {
    const { volumes, advance } = manager();
    const pod = podWith([{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io' } }]);
    const message =
      'MountVolume.SetUp failed for volume "secrets" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers';
    let error = await notReady(volumes.setUp(pod, { objects }));
    expect(error.events).toEqual([message]);
    expect(error.retryAfterMs).toBe(500);
    // Inside the back-off: no try, no event.
    advance(400);
    error = await notReady(volumes.setUp(pod, { objects }));
    expect(error.events).toEqual([]);
    expect(error.retryAfterMs).toBe(100);
    // Tries at 0.5 s, then 1 s, 2 s, 4 s later: the event's count follows that cadence.
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      advance(error.retryAfterMs!);
      error = await notReady(volumes.setUp(pod, { objects }));
      expect(error.events).toEqual([message]);
      waits.push(error.retryAfterMs!);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000]);
    // Nothing was created for the volume; teardown forgets the back-off.
    await volumes.tearDown('uid-v');
    error = await notReady(volumes.setUp(pod, { objects }));
    expect(error.retryAfterMs).toBe(500);
  });

  it('the mount back-off is capped at 2m2s', () => {
    const backOff = new MountBackOff();
    for (let i = 0; i < 12; i++) backOff.failed('k', 0);
    expect(backOff.remainingMs('k', 0)).toBe(122_000);
    backOff.succeeded('k');
    expect(backOff.remainingMs('k', 0)).toBe(0);
  });

  it('nfs without the NFS helper: mount(8) runs and its failure is reported as mount-utils words it', async () => {
    const nfs = fakeNfs();
    const { volumes } = manager(nfs);
    const pod = podWith([{ name: 'share', nfs: { server: '192.0.2.1', path: '/export', readOnly: true } }]);
    const error = await notReady(volumes.setUp(pod, { objects }));
    expect(nfs.calls).toHaveLength(1);
    const target = nfs.calls[0]!.at(-1)!;
    expect(target).toMatch(/\/pods\/uid-v\/volumes\/kubernetes\.io~nfs\/share$/);
    expect((await stat(target)).mode & 0o777).toBe(0o750);
    expect(error.events).toEqual([
      `MountVolume.SetUp failed for volume "share" : mount failed: exit status 32\nMounting command: mount\nMounting arguments: -t nfs -o ro 192.0.2.1:/export ${target}\nOutput: mount: ${target}: unknown filesystem type 'nfs'.\n`,
    ]);
    await volumes.tearDown('uid-v');
    await expect(stat(target)).rejects.toThrow();
  });

  it('nfs where the NFS helper exists: nothing is mounted (it would contact the server), the volume fails', async () => {
    const nfs = fakeNfs('/sbin/mount.nfs');
    await expect(mountNfs(nfs, { server: 'fd00::1', path: '/x' }, '/t')).rejects.toThrow(
      'it never contacts an NFS server (/sbin/mount.nfs is installed)',
    );
    expect(nfs.calls).toEqual([]);
    const bare = fakeNfs();
    await expect(mountNfs(bare, { server: 'fd00::1', path: '/x' }, '/t')).rejects.toThrow(
      'Mounting arguments: -t nfs [fd00::1]:/x /t',
    );
  });

  it('sources no v1.36 plugin matches: the sync event upstream posts each try, with unmounted and unprocessed volumes', async () => {
    const { volumes } = manager();
    const pod = podWith([
      { name: 'scratch', emptyDir: {} },
      { name: 'gluster', glusterfs: { endpoints: 'ep', path: 'vol' } },
      { name: 'ceph', cephfs: { monitors: ['192.0.2.1:6789'] } },
      { name: 'flex', flexVolume: { driver: 'vendor/driver' } },
    ]);
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await notReady(volumes.setUp(pod, { objects }));
      expect(error.events).toEqual([
        'Unable to attach or mount volumes: unmounted volumes=[ceph flex gluster], unattached volumes=[], failed to process volumes=[ceph flex gluster]: failed to get Plugin from volumeSpec for volume "ceph" err=no volume plugin matched; failed to get Plugin from volumeSpec for volume "flex" err=no volume plugin matched; failed to get Plugin from volumeSpec for volume "gluster" err=no volume plugin matched',
      ]);
      // No back-off of its own: the pod sync's retry delay paces it.
      expect(error.retryAfterMs).toBeUndefined();
    }
  });

  it('sources that need an attachment (iscsi, fc, the cloud disks): the pod waits without an event', async () => {
    const { volumes } = manager();
    for (const volume of [
      { name: 'lun', iscsi: { targetPortal: '192.0.2.1:3260', iqn: 'iqn.x', lun: 0 } },
      { name: 'files', azureFile: { secretName: 's', shareName: 'x' } },
      { name: 'fibre', fc: { wwids: ['w'] } },
    ] as Volume[]) {
      const error = await notReady(volumes.setUp(podWith([volume]), { objects }));
      expect(error.events).toEqual([]);
      expect(error.value).toEqual([volume.name]);
    }
  });

  it('a volume no container mounts is not mounted at all, as upstream', async () => {
    const { volumes } = manager();
    const pod = makePod({
      volumes: [
        { name: 'unused', csi: { driver: 'd' } },
        { name: 'rbd', rbd: {} },
      ],
    });
    expect([...(await volumes.setUp(pod, { objects })).keys()]).toEqual([]);
  });
});
