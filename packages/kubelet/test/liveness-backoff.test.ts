import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

/**
 * CrashLoopBackOff applies to every restart, whatever killed the container: a container killed by
 * its liveness probe is restarted on upstream's schedule (doBackOff against the newest exited
 * instance). One clock drives the kubelet and the fake runtime, so the times are exact.
 */
let h: EngineHarness;
const failing = new Set<string>();

beforeEach(async () => {
  h = await startEngine(
    { probes: { state: { livenessFailed: (id) => failing.has(id) } } },
    { runtimeOnFakeClock: true },
  );
});

afterEach(async () => {
  failing.clear();
  await h.close();
});

/** The running container's id, or undefined while it waits. */
function runningId(uid: string): string | undefined {
  const status = h.kubelet.getPodStatus(uid)?.containerStatuses?.[0];
  return status?.state.running ? status.containerID?.replace(/^containerd:\/\//, '') : undefined;
}

/** Adds the pod, or syncs it again (an unchanged update is no sync, as upstream's pod config). */
async function sync(pod: ReturnType<typeof testPod>): Promise<void> {
  if (h.kubelet.getPods().some((p) => p.metadata.uid === pod.metadata.uid)) h.kubelet.resyncPods([pod]);
  else h.kubelet.addPod(pod);
  await h.kubelet.settle();
}

describe('CrashLoopBackOff after liveness kills (injected clock)', () => {
  it('restarts at once after the first two kills, then waits 10 s, 20 s, 40 s after each kill', async () => {
    const pod = testPod({ terminationGracePeriodSeconds: 0 });
    const uid = pod.metadata.uid!;
    const t0 = h.clock.now();
    await sync(pod);
    // Each instance fails its liveness probe 4 s after it started; we record when the kubelet
    // killed it and when it started the next one, syncing every 500 ms as the clock moves.
    const kills: number[] = [];
    const starts: number[] = [];
    let current = runningId(uid)!;
    let startedAt = t0;
    while (kills.length < 6) {
      h.clock.set(startedAt + 4000);
      failing.add(current);
      await sync(pod);
      kills.push(h.clock.now());
      while (!runningId(uid)) {
        h.clock.advance(500);
        await sync(pod);
      }
      current = runningId(uid)!;
      startedAt = h.clock.now();
      starts.push(startedAt);
    }
    const delays = starts.map((start, i) => start - kills[i]!);
    // Upstream: no exited instance before the first kill, none armed before the second; from
    // the third on, 10 s doubling after the kill.
    const expected = [0, 0, 10_000, 20_000, 40_000, 80_000];
    for (const [i, delay] of delays.entries())
      expect(Math.abs(delay - expected[i]!)).toBeLessThanOrEqual(1000);
    expect(h.kubelet.getPodStatus(uid)?.containerStatuses?.[0]?.restartCount).toBe(6);
  });

  it('a crashing container: at once, then 10 s, 20 s, 40 s after each crash; at once again after 10 minutes running', async () => {
    const pod = testPod({ terminationGracePeriodSeconds: 0 });
    const uid = pod.metadata.uid!;
    await sync(pod);
    const crashAndWait = async (runForMs: number) => {
      const id = runningId(uid)!;
      h.clock.advance(runForMs);
      h.fake.exitContainer(id, 1);
      await h.kubelet.pleg.relist();
      await sync(pod);
      expect(runningId(uid)).not.toBe(id);
      const crashedAt = h.clock.now();
      while (!runningId(uid)) {
        h.clock.advance(500);
        await sync(pod);
      }
      return h.clock.now() - crashedAt;
    };
    const near = (actual: number, expected: number) =>
      expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1000);
    near(await crashAndWait(4000), 0);
    near(await crashAndWait(4000), 10_000);
    near(await crashAndWait(4000), 20_000);
    near(await crashAndWait(4000), 40_000);
    // Ran 11 minutes: the back-off starts over.
    near(await crashAndWait(11 * 60_000), 0);
    near(await crashAndWait(4000), 10_000);
  });
});
