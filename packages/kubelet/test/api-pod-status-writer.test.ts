import { describe, expect, it } from 'vitest';
import type { Pod, PodStatus } from '../src/api/pod-types';
import { apiPodStatusWriter } from '../src/status/api-pod-status-writer';
import { isMirrorPodMissingError } from '../src/status/mirror-pod-missing';

type Core = Parameters<typeof apiPodStatusWriter>[0];

/** A CoreV1 stand-in holding pods by namespace/name, recording each status patch it accepts. */
function fakeCore(pods: Pod[]) {
  const byName = new Map(pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
  const patches: { name: string; uid: unknown }[] = [];
  const reads: string[] = [];
  const notFound = () => Object.assign(new Error('not found'), { code: 404 });
  const core = {
    async readNamespacedPod({ name, namespace }: { name: string; namespace: string }) {
      reads.push(`${namespace}/${name}`);
      const pod = byName.get(`${namespace}/${name}`);
      if (!pod) throw notFound();
      return pod;
    },
    async patchNamespacedPodStatus({
      name,
      namespace,
      body,
    }: {
      name: string;
      namespace: string;
      body: unknown;
    }) {
      const pod = byName.get(`${namespace}/${name}`);
      if (!pod) throw notFound();
      const uid = (body as { metadata: { uid?: string } }).metadata.uid;
      if (uid !== undefined && uid !== pod.metadata.uid)
        throw Object.assign(new Error('conflict'), { code: 409 });
      patches.push({ name, uid });
      return pod;
    },
    async deleteNamespacedPod() {
      return {};
    },
  };
  return { core: core as unknown as Core, patches, reads, byName };
}

const status: PodStatus = { phase: 'Running' };

const staticPod: Pod = {
  metadata: {
    name: 'etcd-node',
    namespace: 'kube-system',
    uid: 'static-uid',
    annotations: { 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.hash': 'hash-1' },
  },
  spec: { containers: [{ name: 'etcd', image: 'busybox' }] },
};

function mirrorOf(hash: string, uid: string, extra: Partial<Pod['metadata']> = {}): Pod {
  return {
    ...staticPod,
    metadata: {
      ...staticPod.metadata,
      uid,
      annotations: { 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.mirror': hash },
      ...extra,
    },
  };
}

describe('apiPodStatusWriter', () => {
  it('patches an API pod with its own uid as the precondition, without reading it first', async () => {
    const pod: Pod = { ...staticPod, metadata: { name: 'web', namespace: 'default', uid: 'web-uid' } };
    const { core, patches, reads } = fakeCore([pod]);
    await apiPodStatusWriter(core).patchStatus(pod, status);
    expect(patches).toEqual([{ name: 'web', uid: 'web-uid' }]);
    expect(reads).toEqual([]);
  });

  it("patches a static pod's mirror pod with the mirror pod's uid as the precondition", async () => {
    const { core, patches, reads } = fakeCore([mirrorOf('hash-1', 'mirror-uid')]);
    await apiPodStatusWriter(core).patchStatus(staticPod, status);
    expect(reads).toEqual(['kube-system/etcd-node']);
    expect(patches).toEqual([{ name: 'etcd-node', uid: 'mirror-uid' }]);
  });

  it('leaves a pod of that name alone when it is not the mirror pod of this static pod', async () => {
    const others: [string, Pod][] = [
      [
        'no mirror pod',
        { ...staticPod, metadata: { ...staticPod.metadata, annotations: {}, uid: 'user-uid' } },
      ],
      ['an older manifest', mirrorOf('hash-0', 'old-mirror-uid')],
      ['being deleted', mirrorOf('hash-1', 'mirror-uid', { deletionTimestamp: '2026-11-24T00:00:00Z' })],
    ];
    for (const [what, other] of others) {
      const { core, patches } = fakeCore([other]);
      const error = await apiPodStatusWriter(core)
        .patchStatus(staticPod, status)
        .catch((e: unknown) => e);
      expect(isMirrorPodMissingError(error), what).toBe(true);
      expect((error as Error).message, what).toContain('kube-system/etcd-node');
      expect(patches, what).toEqual([]);
    }
  });

  it('says the mirror pod is missing when none of that name exists, or it went between read and patch', async () => {
    const { core, patches, byName } = fakeCore([]);
    const writer = apiPodStatusWriter(core);
    expect(
      isMirrorPodMissingError(await writer.patchStatus(staticPod, status).catch((e: unknown) => e)),
    ).toBe(true);
    // Deleted after the read: the patch's 404 reads the same.
    const mirror = mirrorOf('hash-1', 'mirror-uid');
    byName.set('kube-system/etcd-node', mirror);
    const read = core.readNamespacedPod.bind(core);
    (core as { readNamespacedPod: typeof read }).readNamespacedPod = async (p) => {
      const pod = await read(p);
      byName.delete('kube-system/etcd-node');
      return pod;
    };
    expect(
      isMirrorPodMissingError(await writer.patchStatus(staticPod, status).catch((e: unknown) => e)),
    ).toBe(true);
    expect(patches).toEqual([]);
  });
});
