import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/clock';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { Kubelet } from '../src/kubelet';
import { criPodRuntime } from '../src/runtime/cri-pod-runtime';
import { RecordingMounter } from '../src/volumes/mounter';
import { busybox, testPod } from './helpers/engine';

/**
 * CrashLoopBackOff applies to every restart, whatever killed the container: a container killed by
 * its liveness probe is restarted on upstream's schedule (doBackOff against the newest exited
 * instance). One clock drives the kubelet and the fake runtime, so the times are exact.
 */
let clock: FakeClock;
let fake: FakeRuntime;
let client: CriClient;
let kubelet: Kubelet;
let dir: string;
const failing = new Set<string>();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-liveness-backoff-${process.pid}-`));
  clock = new FakeClock(Date.UTC(2026, 0, 1));
  fake = await FakeRuntime.start({
    images: [{ ref: busybox }, { ref: 'localhost/nodeagent/pause:3.10' }],
    now: () => BigInt(clock.now()) * 1_000_000n,
  });
  client = await createCriClient({ endpoint: fake.endpoint });
  kubelet = new Kubelet({
    nodeName: 'node-a',
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({ podLogsDir: join(dir, 'logs') }).config,
    rootDir: join(dir, 'root'),
    hostIPs: ['192.168.50.2'],
    memoryCapacity: 4 * 1024 ** 3,
    clock,
    mounter: new RecordingMounter(),
    probes: { livenessFailed: (id) => failing.has(id) },
    relistPeriodMs: 3_600_000,
    retryMs: 3_600_000,
    sleep: async () => {},
  });
  await kubelet.start();
});

afterEach(async () => {
  failing.clear();
  await kubelet.stop();
  client.close();
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The running container's id, or undefined while it waits. */
function runningId(uid: string): string | undefined {
  const status = kubelet.getPodStatus(uid)?.containerStatuses?.[0];
  return status?.state.running ? status.containerID?.replace(/^containerd:\/\//, '') : undefined;
}

async function sync(pod: ReturnType<typeof testPod>): Promise<void> {
  kubelet.updatePod(pod);
  await kubelet.settle();
}

describe('CrashLoopBackOff after liveness kills (injected clock)', () => {
  it('restarts at once after the first two kills, then waits 10 s, 20 s, 40 s after each kill', async () => {
    const pod = testPod({ terminationGracePeriodSeconds: 0 });
    const uid = pod.metadata.uid!;
    const t0 = clock.now();
    await sync(pod);
    // Each instance fails its liveness probe 4 s after it started; we record when the kubelet
    // killed it and when it started the next one, syncing every 500 ms as the clock moves.
    const kills: number[] = [];
    const starts: number[] = [];
    let current = runningId(uid)!;
    let startedAt = t0;
    while (kills.length < 6) {
      clock.set(startedAt + 4000);
      failing.add(current);
      await sync(pod);
      kills.push(clock.now());
      while (!runningId(uid)) {
        clock.advance(500);
        await sync(pod);
      }
      current = runningId(uid)!;
      startedAt = clock.now();
      starts.push(startedAt);
    }
    const delays = starts.map((start, i) => start - kills[i]!);
    // Upstream: no exited instance before the first kill, none armed before the second; from
    // the third on, 10 s doubling after the kill.
    const expected = [0, 0, 10_000, 20_000, 40_000, 80_000];
    for (const [i, delay] of delays.entries())
      expect(Math.abs(delay - expected[i]!)).toBeLessThanOrEqual(1000);
    expect(kubelet.getPodStatus(uid)?.containerStatuses?.[0]?.restartCount).toBe(6);
  });

  it('a crashing container: at once, then 10 s, 20 s, 40 s after each crash; at once again after 10 minutes running', async () => {
    const pod = testPod({ terminationGracePeriodSeconds: 0 });
    const uid = pod.metadata.uid!;
    await sync(pod);
    const crashAndWait = async (runForMs: number) => {
      const id = runningId(uid)!;
      clock.advance(runForMs);
      fake.exitContainer(id, 1);
      await kubelet.pleg.relist();
      await sync(pod);
      expect(runningId(uid)).not.toBe(id);
      const crashedAt = clock.now();
      while (!runningId(uid)) {
        clock.advance(500);
        await sync(pod);
      }
      return clock.now() - crashedAt;
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
