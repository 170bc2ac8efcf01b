import { afterEach, describe, expect, it } from 'vitest';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('pod housekeeping (upstream HandlePodCleanups, once the sources are ready)', () => {
  it("drops the crash-loop and image pull back-offs' expired entries, as upstream's crashLoopBackOff.GC(), and keeps live ones", async () => {
    h = await startEngine();
    const { crashBackOff, imageBackOff } = h.kubelet.syncer;
    crashBackOff.next('uid-gone_app_1', h.clock.now());
    imageBackOff.next('uid-gone_app_busybox', h.clock.now());
    // Past the crash-loop back-off's 600 s expiry (the image back-off's is twice its 300 s cap).
    h.clock.advance(601_000);
    crashBackOff.next('uid-live_app_1', h.clock.now());
    await h.kubelet.markSourcesReady();
    expect(crashBackOff.size).toBe(1);
    expect(crashBackOff.get('uid-live_app_1')).toBe(10_000);
    expect(imageBackOff.size).toBe(0);
  });
});

describe('pod housekeeping after a restart', () => {
  it("removes the recorded allocation of a pod deleted while the kubelet was down (upstream's RemoveOrphanedPods), and keeps the others'", async () => {
    h = await startEngine();
    const keep = testPod({}, 'keep');
    const gone = testPod({}, 'gone');
    h.kubelet.addPod(keep);
    h.kubelet.addPod(gone);
    await h.settleThroughRelists();
    await h.kubelet.stop();
    const next = await h.restart();
    expect(next.resizer.store.podUids().sort()).toEqual([gone.metadata.uid, keep.metadata.uid].sort());
    next.addPod(keep);
    await next.settle();
    await next.markSourcesReady();
    expect(next.resizer.store.podUids()).toEqual([keep.metadata.uid]);
    await next.resizer.store.settled();
    const again = await h.restart();
    expect(again.resizer.store.podUids()).toEqual([keep.metadata.uid]);
  });
});
