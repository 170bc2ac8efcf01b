import { afterEach, describe, expect, it } from 'vitest';
import { type EngineHarness, startEngine } from './helpers/engine';

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
