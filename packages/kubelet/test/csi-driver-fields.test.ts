import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1CSIDriverSpec } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { csiFsGroupPolicy, kubeletAppliesFsGroup } from '../src/volumes/csi/csi-fs-group';
import { ApiServiceAccountTokens } from '../src/volumes/service-account-tokens';
import {
  bindClaim,
  type CsiVolumeHarness,
  type CsiVolumeHarnessOptions,
  DRIVER,
  setUpFailure,
  startCsiVolumeHarness,
} from './helpers/csi-volume-harness';

let h: CsiVolumeHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(spec: V1CSIDriverSpec, extra: Omit<CsiVolumeHarnessOptions, 'csiDriver'> = {}) {
  h = await startCsiVolumeHarness({ csiDriver: { attachRequired: false, ...spec }, ...extra });
  return h;
}

/** A claim `name` bound to a PersistentVolume `pv-<name>` (handle `vol-<name>`) with these PV fields. */
async function claim(
  t: CsiVolumeHarness,
  name: string,
  pv: { accessModes?: string[]; fsType?: string; readOnly?: boolean } = {},
): Promise<void> {
  await t.core.createNamespacedPersistentVolumeClaim({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: {
        accessModes: pv.accessModes ?? ['ReadWriteOnce'],
        resources: { requests: { storage: '1Mi' } },
      },
    },
  });
  await bindClaim(t.core, 'default', name, {
    name: `pv-${name}`,
    volumeHandle: `vol-${name}`,
    csi: {
      driver: DRIVER,
      volumeHandle: `vol-${name}`,
      ...(pv.fsType ? { fsType: pv.fsType } : {}),
      ...(pv.readOnly ? { readOnly: true } : {}),
    },
  });
}

function claimPod(name: string, claimName: string, extra: Partial<Pod['spec']> = {}, readOnly = false): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: {
      serviceAccountName: 'default',
      containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName, readOnly } }],
      ...extra,
    },
  };
}

const publishes = (t: CsiVolumeHarness) =>
  t.plugin.calls
    .filter((c) => c.method.endsWith('/NodePublishVolume'))
    .map((c) => c.request as Record<string, unknown>);
const stages = (t: CsiVolumeHarness) =>
  t.plugin.calls
    .filter((c) => c.method.endsWith('/NodeStageVolume'))
    .map((c) => c.request as Record<string, unknown>);
const target = (t: CsiVolumeHarness, uid: string, pv: string) =>
  join(t.root, 'pods', uid, 'volumes', 'kubernetes.io~csi', pv, 'mount');

describe('fsGroupPolicy and volume_mount_group', () => {
  it('applies the fsGroup itself for File, never for None, and for ReadWriteOnceWithFSType only with an fsType on a ReadWriteOnce volume', async () => {
    const t = await harness({ fsGroupPolicy: 'File' });
    const fsGroup = { securityContext: { fsGroup: 4321 } } as Partial<Pod['spec']>;
    await claim(t, 'file');
    await t.volumes.setUp(claimPod('file', 'file', fsGroup), { objects: {} as never });
    expect((await stat(target(t, 'uid-file', 'pv-file'))).gid).toBe(4321);

    await t.storage.patchCSIDriver({
      name: DRIVER,
      body: [{ op: 'replace', path: '/spec/fsGroupPolicy', value: 'None' }],
    });
    await claim(t, 'none');
    await t.volumes.setUp(claimPod('none', 'none', fsGroup), { objects: {} as never });
    expect((await stat(target(t, 'uid-none', 'pv-none'))).gid).toBe(0);

    await t.storage.patchCSIDriver({
      name: DRIVER,
      body: [{ op: 'replace', path: '/spec/fsGroupPolicy', value: 'ReadWriteOnceWithFSType' }],
    });
    await claim(t, 'nofstype');
    await claim(t, 'ext4', { fsType: 'ext4' });
    await claim(t, 'rwx', { fsType: 'ext4', accessModes: ['ReadWriteMany'] });
    for (const name of ['nofstype', 'ext4', 'rwx'])
      await t.volumes.setUp(claimPod(name, name, fsGroup), { objects: {} as never });
    expect((await stat(target(t, 'uid-nofstype', 'pv-nofstype'))).gid).toBe(0);
    expect((await stat(target(t, 'uid-ext4', 'pv-ext4'))).gid).toBe(4321);
    expect((await stat(target(t, 'uid-rwx', 'pv-rwx'))).gid).toBe(0);
    // No volume_mount_group for a driver without VOLUME_MOUNT_GROUP.
    expect(
      publishes(t).every(
        (p) => !Object.hasOwn((p.volume_capability as { mount: object }).mount, 'volume_mount_group'),
      ),
    ).toBe(true);
  });

  it('hands the fsGroup to a driver with VOLUME_MOUNT_GROUP in stage and publish, and changes nothing itself', async () => {
    const t = await harness(
      { fsGroupPolicy: 'File' },
      { plugin: { nodeCapabilities: ['VOLUME_MOUNT_GROUP', 'SINGLE_NODE_MULTI_WRITER'] } },
    );
    await claim(t, 'grouped', { fsType: 'ext4' });
    await t.volumes.setUp(claimPod('grouped', 'grouped', { securityContext: { fsGroup: 2000 } } as never), {
      objects: {} as never,
    });
    expect(stages(t)[0]?.volume_capability).toEqual({
      access_mode: { mode: 'SINGLE_NODE_MULTI_WRITER' },
      mount: { fs_type: 'ext4', volume_mount_group: '2000' },
    });
    expect(publishes(t)[0]?.volume_capability).toEqual({
      access_mode: { mode: 'SINGLE_NODE_MULTI_WRITER' },
      mount: { fs_type: 'ext4', volume_mount_group: '2000' },
    });
    expect((await stat(target(t, 'uid-grouped', 'pv-grouped'))).gid).toBe(0);
  });

  it("refuses a CSIDriver object without an fsGroupPolicy in upstream's words, and reads the policies as upstream", () => {
    expect(csiFsGroupPolicy(undefined)).toBe('ReadWriteOnceWithFSType');
    expect(() => csiFsGroupPolicy({ spec: {} })).toThrow(
      'kubernetes.io/csi: mounter.SetupAt failed to check fsGroup policy: kubernetes.io/csi: expected valid fsGroupPolicy, received nil value or empty string',
    );
    const base = { readOnly: false, fsType: 'ext4', accessModes: ['ReadWriteOnce'], inline: false };
    expect(kubeletAppliesFsGroup({ ...base, policy: 'File', readOnly: true })).toBe(false);
    expect(
      kubeletAppliesFsGroup({ ...base, policy: 'ReadWriteOnceWithFSType', accessModes: undefined }),
    ).toBe(false);
    expect(
      kubeletAppliesFsGroup({
        ...base,
        policy: 'ReadWriteOnceWithFSType',
        inline: true,
        accessModes: undefined,
      }),
    ).toBe(true);
  });
});

describe('podInfoOnMount, tokenRequests and requiresRepublish', () => {
  it("puts the pod's attributes and its service account tokens in volume_context, and publishes again on every sync", async () => {
    // The kubelet's token source over the server's TokenRequest API, its requests recorded.
    const requested: unknown[] = [];
    const t = await harness(
      {
        podInfoOnMount: true,
        requiresRepublish: true,
        tokenRequests: [{ audience: 'vault', expirationSeconds: 3600 }, { audience: '' }],
      },
      {
        csi: (core) => ({
          tokens: new ApiServiceAccountTokens({
            createNamespacedServiceAccountToken: (param) => {
              requested.push(param);
              return core.createNamespacedServiceAccountToken(param as never);
            },
          }),
        }),
      },
    );
    await claim(t, 'tokens');
    const pod = claimPod('tokens', 'tokens');
    await t.volumes.setUp(pod, { objects: {} as never });
    const context = publishes(t)[0]?.volume_context as Record<string, string>;
    expect(context).toMatchObject({
      'csi.storage.k8s.io/pod.name': 'tokens',
      'csi.storage.k8s.io/pod.namespace': 'default',
      'csi.storage.k8s.io/pod.uid': 'uid-tokens',
      'csi.storage.k8s.io/serviceAccount.name': 'default',
      'csi.storage.k8s.io/ephemeral': 'false',
    });
    const tokens = JSON.parse(context['csi.storage.k8s.io/serviceAccount.tokens'] as string);
    expect(Object.keys(tokens)).toEqual(['', 'vault']);
    for (const audience of ['', 'vault']) {
      expect(tokens[audience].token).toMatch(/^fake\./);
      expect(tokens[audience].expirationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    expect(tokens[''].token).not.toBe(tokens.vault.token);
    const bound = { apiVersion: 'v1', kind: 'Pod', name: 'tokens', uid: 'uid-tokens' };
    expect(requested).toEqual([
      {
        name: 'default',
        namespace: 'default',
        body: { spec: { audiences: ['vault'], expirationSeconds: 3600, boundObjectRef: bound } },
      },
      { name: 'default', namespace: 'default', body: { spec: { audiences: [], boundObjectRef: bound } } },
    ]);

    // requiresRepublish: the next sync publishes again (upstream's remount), the same token reused.
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(publishes(t)).toHaveLength(2);
    expect(publishes(t)[1]?.volume_context).toEqual(context);
  });

  it('publishes once without requiresRepublish, and a driver asking for tokens fails the mount where none can be minted', async () => {
    const t = await harness({ tokenRequests: [{ audience: 'vault' }] });
    await claim(t, 'once');
    const error = await setUpFailure(t.volumes, claimPod('once', 'once'));
    expect(error.events).toEqual([
      'MountVolume.SetUp failed for volume "pv-once" : kubernetes.io/csi: mounter.SetUpAt failed to get service accoount token attributes: ServiceAccountTokenGetter is nil',
    ]);
    expect(publishes(t)).toHaveLength(0);
    await t.storage.patchCSIDriver({ name: DRIVER, body: [{ op: 'remove', path: '/spec/tokenRequests' }] });
    const again = claimPod('again', 'once');
    await t.volumes.setUp(again, { objects: {} as never });
    await t.volumes.setUp(again, { objects: {} as never });
    expect(publishes(t)).toHaveLength(1);
  });
});

describe('readOnly, access modes and SELinux', () => {
  it("maps the PersistentVolume's first access mode and the readOnly flags as upstream", async () => {
    const t = await harness({});
    await claim(t, 'rox', { accessModes: ['ReadOnlyMany'] });
    await claim(t, 'rwop', { accessModes: ['ReadWriteOncePod'], readOnly: true });
    const rox = await t.volumes.setUp(claimPod('rox', 'rox', {}, true), { objects: {} as never });
    const rwop = await t.volumes.setUp(claimPod('rwop', 'rwop'), { objects: {} as never });
    expect(rox.get('data')?.readOnly).toBe(true);
    expect(rwop.get('data')?.readOnly).toBe(true);
    expect(
      publishes(t).map((p) => [
        (p.volume_capability as { access_mode: { mode: string } }).access_mode.mode,
        p.readonly,
      ]),
    ).toEqual([
      ['MULTI_NODE_READER_ONLY', true],
      ['SINGLE_NODE_SINGLE_WRITER', true],
    ]);
  });

  it('passes no SELinux context on a host without SELinux, even where the driver asks for SELinux mounts', async () => {
    const t = await harness({ seLinuxMount: true }, { csi: { selinuxEnabled: false } });
    await claim(t, 'selinux', { accessModes: ['ReadWriteOncePod'] });
    const labelled = claimPod('selinux', 'selinux', {
      securityContext: { seLinuxOptions: { level: 's0:c1,c2' } },
    } as never);
    await t.volumes.setUp(labelled, { objects: {} as never });
    expect(publishes(t)[0]?.volume_capability).toEqual({
      access_mode: { mode: 'SINGLE_NODE_SINGLE_WRITER' },
      mount: {},
    });
  });

  it('refuses by name where upstream would mount with an SELinux context, publishing nothing', async () => {
    const t = await harness({ seLinuxMount: true }, { csi: { selinuxEnabled: true } });
    await claim(t, 'selinux', { accessModes: ['ReadWriteOncePod'] });
    const labelled = claimPod('selinux', 'selinux', {
      securityContext: { seLinuxOptions: { level: 's0:c1,c2' } },
    } as never);
    const error = await setUpFailure(t.volumes, labelled);
    expect(error.events[0]).toContain(
      'CSIDriver seLinuxMount: true asks for an SELinux context mount (level "s0:c1,c2")',
    );
    expect(publishes(t)).toHaveLength(0);
    // Without a level (the runtime picks one) upstream passes no context either: published.
    await t.volumes.setUp(claimPod('unlabelled', 'selinux'), { objects: {} as never });
    expect(publishes(t)).toHaveLength(1);
  });
});

describe('secrets for the driver', () => {
  it("passes the PV's stage and publish secrets and an inline volume's publish secret; a missing one fails the mount in upstream's words", async () => {
    const t = await harness({ volumeLifecycleModes: ['Persistent', 'Ephemeral'] });
    for (const [name, value] of [
      ['stage-creds', 's1'],
      ['publish-creds', 'p1'],
    ] as const)
      await t.core.createNamespacedSecret({
        namespace: 'default',
        body: { metadata: { name }, stringData: { key: value } },
      });
    await t.core.createNamespacedPersistentVolumeClaim({
      namespace: 'default',
      body: {
        metadata: { name: 'secret' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
      },
    });
    await bindClaim(t.core, 'default', 'secret', {
      name: 'pv-secret',
      volumeHandle: 'vol-secret',
      csi: {
        driver: DRIVER,
        volumeHandle: 'vol-secret',
        nodeStageSecretRef: { namespace: 'default', name: 'stage-creds' },
        nodePublishSecretRef: { namespace: 'default', name: 'publish-creds' },
      },
    });
    await t.volumes.setUp(claimPod('secret', 'secret'), { objects: {} as never });
    expect(t.plugin.secrets).toEqual([
      { rpc: 'NodeStageVolume', secrets: { key: 's1' } },
      { rpc: 'NodePublishVolume', secrets: { key: 'p1' } },
    ]);
    expect(publishes(t)[0]?.secrets).toBe('***stripped***');

    const inline: Pod = {
      metadata: { name: 'inline', namespace: 'default', uid: 'uid-inline' },
      spec: {
        containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'v', mountPath: '/v' }] }],
        volumes: [{ name: 'v', csi: { driver: DRIVER, nodePublishSecretRef: { name: 'missing' } } }],
      },
    };
    const error = await setUpFailure(t.volumes, inline);
    expect(error.events).toEqual([
      'MountVolume.SetUp failed for volume "v" : fetching NodePublishSecretRef default/missing failed: kubernetes.io/csi: failed to find the secret missing in the namespace default with error: secrets "missing" not found',
    ]);
    expect(publishes(t)).toHaveLength(1);
  });
});
