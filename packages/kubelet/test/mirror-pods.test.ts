import { describe, expect, it } from 'vitest';
import { isMirrorPod } from '../src/api/config-source';
import type { Pod } from '../src/api/pod-types';
import { isMirrorPodOf } from '../src/pod/mirror-pod';
import { MirrorPods } from '../src/pod/mirror-pods';
import { mirrorPodFor } from '../src/sources/api-clients';
import { staticPodDefaults } from '../src/sources/static-pod-source';
import { testPod } from './helpers/engine';

const staticPod = staticPodDefaults(
  testPod({}, 'etcd'),
  'node-a',
  '/etc/kubernetes/manifests/etcd.yaml',
  'now',
);

/** The mirror pod as the API server stores it: a uid and resourceVersion of its own. */
function mirrorOf(pod: Pod, uid: string, edit: (mirror: Pod) => void = () => {}): Pod {
  const mirror = mirrorPodFor(pod, { name: 'node-a' });
  mirror.metadata.uid = uid;
  mirror.metadata.resourceVersion = '7';
  edit(mirror);
  return mirror;
}

describe('isMirrorPodOf: the one definition of "this is the mirror pod of that static pod"', () => {
  it('holds for the mirror pod the kubelet creates for the static pod', () => {
    const mirror = mirrorOf(staticPod, 'mirror-1');
    expect(isMirrorPod(mirror)).toBe(true);
    expect(isMirrorPod(staticPod)).toBe(false);
    expect(isMirrorPodOf(mirror, staticPod)).toBe(true);
  });

  it('fails for another hash, another name or namespace, or a mirror pod being deleted', () => {
    const foreign = mirrorOf(staticPod, 'm', (m) => {
      m.metadata.annotations = { ...m.metadata.annotations, 'kubernetes.io/config.mirror': 'other-hash' };
    });
    const renamed = mirrorOf(staticPod, 'm', (m) => {
      m.metadata.name = 'etcd-node-b';
    });
    const elsewhere = mirrorOf(staticPod, 'm', (m) => {
      m.metadata.namespace = 'kube-system';
    });
    const deleting = mirrorOf(staticPod, 'm', (m) => {
      m.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    });
    for (const mirror of [foreign, renamed, elsewhere, deleting])
      expect(isMirrorPodOf(mirror, staticPod)).toBe(false);
    // A pod without the annotation is no mirror pod of anything, not even of a pod without a hash.
    expect(isMirrorPodOf(testPod({}, 'plain'), testPod({}, 'plain'))).toBe(false);
  });
});

describe('MirrorPods: the latest mirror pod of each static pod, by namespace/name', () => {
  it('gives the newest copy of the static pod own mirror pod, nothing for a foreign one', () => {
    const pods = new MirrorPods();
    expect(pods.of(staticPod)).toBeUndefined();
    pods.set(mirrorOf(staticPod, 'mirror-1'));
    const newer = mirrorOf(staticPod, 'mirror-1', (m) => {
      m.metadata.resourceVersion = '8';
    });
    pods.set(newer);
    expect(pods.of(staticPod)).toBe(newer);
    pods.set(
      mirrorOf(staticPod, 'mirror-2', (m) => {
        m.metadata.annotations = { ...m.metadata.annotations, 'kubernetes.io/config.mirror': 'old-hash' };
      }),
    );
    expect(pods.of(staticPod)).toBeUndefined();
    expect(pods.size).toBe(1);
  });

  it('ignores pods that are no mirror pods, and a late delete of a replaced mirror pod', () => {
    const pods = new MirrorPods();
    pods.set(staticPod);
    expect(pods.size).toBe(0);
    const old = mirrorOf(staticPod, 'mirror-old');
    const current = mirrorOf(staticPod, 'mirror-new');
    pods.set(old);
    pods.set(current);
    pods.remove(old);
    expect(pods.of(staticPod)).toBe(current);
    pods.remove(current);
    expect(pods.of(staticPod)).toBeUndefined();
    expect(pods.size).toBe(0);
  });
});
