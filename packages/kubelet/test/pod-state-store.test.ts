import { describe, expect, it } from 'vitest';
import { MirrorPods } from '../src/pod/mirror-pods';
import { mirrorPodFor } from '../src/sources/api-clients';
import { staticPodDefaults } from '../src/sources/static-pod-source';
import { PodStateStore } from '../src/sync/pod-state-store';
import { makePod } from './helpers/fixtures';

describe('PodStateStore: one entry per pod from its arrival to its cleanup', () => {
  it('holds the newest version, first seen at its first arrival only', () => {
    const store = new PodStateStore(new MirrorPods());
    const pod = makePod({}, { uid: 'a' });
    const updated = makePod({}, { uid: 'a', labels: { v: '2' } });
    expect(store.set(pod, 1_000)).toBeUndefined();
    expect(store.set(updated, 5_000)).toBe(pod);
    expect(store.pod('a')).toBe(updated);
    expect(store.firstSeen('a')).toBe(1_000);
    store.startRunning('a');
    expect(store.firstSeen('a')).toBeUndefined();
    expect(store.markStartObserved('a')).toBe(true);
    expect(store.markStartObserved('a')).toBe(false);
  });

  it('forgets the pod, its refusal, eviction, removal and start records at once', () => {
    const store = new PodStateStore(new MirrorPods());
    store.set(makePod({}, { uid: 'a' }), 1_000);
    store.set(makePod({}, { uid: 'b', name: 'other' }), 1_000);
    store.reject('a', { reason: 'OutOfcpu', message: 'no cpu' });
    store.evict('a', { reason: 'Evicted', message: 'low memory' });
    store.markRemoved('a');
    store.markStartObserved('a');
    store.forget('a');
    expect([store.pod('a'), store.rejection('a'), store.eviction('a'), store.firstSeen('a')]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(store.wasRemoved('a')).toBe(false);
    expect(store.markStartObserved('a')).toBe(true);
    expect(store.all().map((pod) => pod.metadata.uid)).toEqual(['b']);
  });

  it("gives the status reconcile the API's copy: the pod itself, a static pod's mirror pod, none once removed", () => {
    const mirrors = new MirrorPods();
    const store = new PodStateStore(mirrors);
    const apiPod = makePod({}, { uid: 'api' });
    const staticPod = staticPodDefaults(
      makePod({}, { uid: 'static', name: 'etcd' }),
      'node-a',
      '/m/etcd.yaml',
      'x',
    );
    store.set(apiPod, 0);
    store.set(staticPod, 0);
    // The static pod's uid is its manifest's hash (staticPodDefaults), not the one it was given.
    const staticUid = staticPod.metadata.uid ?? '';
    expect(store.apiPodOf('api')).toBe(apiPod);
    expect(store.apiPodOf(staticUid)).toBeUndefined();
    const mirror = mirrorPodFor(staticPod, { name: 'node-a' });
    mirror.metadata.uid = 'mirror-1';
    mirrors.set(mirror);
    expect(store.apiPodOf(staticUid)).toBe(mirror);
    store.markRemoved('api');
    expect(store.apiPodOf('api')).toBeUndefined();
    expect(store.apiPodOf('unknown')).toBeUndefined();
  });
});
