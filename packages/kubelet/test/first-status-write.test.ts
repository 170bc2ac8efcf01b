import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { Pod, PodStatus } from '../src/api/pod-types';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { PodProber } from '../src/probes/pod-prober';
import { withReadinessAsNow } from '../src/status/container-probe-status';
import { generatePodStatus } from '../src/status/generate-pod-status';
import { MAX_STATUS_HOLD_MS, StatusManager } from '../src/status/status-manager';
import { runningPodRuntimeStatus } from './helpers/running-pod-runtime-status';

/** Lets the promise chains woken by a timer run before time moves on. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const ready = (status: PodStatus | undefined) => status?.conditions?.find((c) => c.type === 'Ready')?.status;
const running = (status: PodStatus | undefined) =>
  status?.containerStatuses?.[0]?.state?.running !== undefined;

/**
 * PodProber and StatusManager wired as kubelet.ts wires them (probe results applied at once, the
 * pod's API write held for the first readiness runs), on a fake clock. ExecSync answers
 * `execMs` of clock time after it is called.
 */
function setup(execMs: number, withReadinessProbe = true) {
  const clock = new FakeClock();
  // The kubelet started a minute ago: no start-up spread of first probes.
  clock.advance(60_000);
  const execs: number[] = [];
  const runtime = {
    execSync: async () => {
      execs.push(clock.now());
      await new Promise<void>((resolve) => clock.setTimeout(resolve, execMs));
      return { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    },
  } as unknown as PodRuntime;
  const written: Array<{ at: number; status: PodStatus }> = [];
  let prober: PodProber | undefined;
  const statusManager = new StatusManager({
    writer: {
      patchStatus: async (_pod, status) => {
        written.push({ at: clock.now(), status });
      },
    },
    holdWrite: (uid) => prober?.firstReadinessRuns(uid),
    clock,
  });
  prober = new PodProber({
    runtime,
    clock,
    onChange: (_uid, update) => statusManager.applyProbeResult(update, clock.now()),
  });
  const pod: Pod = {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'busybox',
          ...(withReadinessProbe
            ? { readinessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 10 } }
            : {}),
        },
      ],
    },
  };
  const startedAt = clock.now();
  const runtimeStatus = runningPodRuntimeStatus(startedAt);
  /** The pod sync's part: probes learn the running container, the generated status is handed over. */
  const sync = () => {
    prober!.update(pod, runtimeStatus, '10.0.0.5');
    const status = generatePodStatus({ ...pod, status: statusManager.getPodStatus('uid-1') }, runtimeStatus, {
      now: clock.now(),
      hostIPs: ['192.168.0.1'],
      ready: (id, c) => prober!.ready(id, c),
      started: (id, c) => prober!.started(id, c),
    });
    statusManager.setPodStatus(pod, status);
  };
  return { clock, execs, written, statusManager, prober, sync, startedAt, pod, runtimeStatus };
}

describe("a started container's first status write carries its first readiness verdict", () => {
  it('holds the Running status until the first probe answered: one write, Running and Ready together', async () => {
    const t = setup(3_000);
    t.sync();
    // The probe ran at the container's start, and the status manager already knows Running.
    await t.clock.advanceAsync(0, settle);
    expect(t.execs).toEqual([t.startedAt]);
    expect(running(t.statusManager.getPodStatus('uid-1'))).toBe(true);
    expect(t.written).toEqual([]);
    await t.clock.advanceAsync(2_999, settle);
    expect(t.written).toEqual([]);
    await t.clock.advanceAsync(1, settle);
    await t.statusManager.flush();
    expect(t.written.map((w) => [w.at - t.startedAt, running(w.status), ready(w.status)])).toEqual([
      [3_000, true, 'True'],
    ]);
    await t.prober.close();
  });

  it('writes Running without the verdict once the hold reaches its limit, and Ready when the probe answers', async () => {
    const t = setup(MAX_STATUS_HOLD_MS + 5_000);
    t.sync();
    await t.clock.advanceAsync(MAX_STATUS_HOLD_MS - 1, settle);
    expect(t.written).toEqual([]);
    await t.clock.advanceAsync(1, settle);
    expect(t.written.map((w) => [w.at - t.startedAt, running(w.status), ready(w.status)])).toEqual([
      [MAX_STATUS_HOLD_MS, true, 'False'],
    ]);
    // A later status is not held again for the same runs.
    await t.clock.advanceAsync(5_000, settle);
    await t.statusManager.flush();
    expect(t.written.map((w) => [w.at - t.startedAt, ready(w.status)])).toEqual([
      [MAX_STATUS_HOLD_MS, 'False'],
      [MAX_STATUS_HOLD_MS + 5_000, 'True'],
    ]);
    await t.prober.close();
  });

  it('releases the hold when the pod stops being probed (a deleted pod is not held back)', async () => {
    const t = setup(60_000);
    t.sync();
    await t.clock.advanceAsync(1_000, settle);
    expect(t.written).toEqual([]);
    t.prober.removePod('uid-1');
    await t.statusManager.flush();
    expect(t.written.map((w) => [w.at - t.startedAt, running(w.status)])).toEqual([[1_000, true]]);
    await t.prober.close();
  });

  it('holds nothing for a container without a readiness probe', async () => {
    const t = setup(3_000, false);
    t.sync();
    await t.statusManager.flush();
    expect(t.execs).toEqual([]);
    expect(t.written.map((w) => [w.at - t.startedAt, running(w.status), ready(w.status)])).toEqual([
      [0, true, 'True'],
    ]);
    await t.prober.close();
  });

  it('a verdict that came in after the status was generated (while the sync awaited) is in the status it sets', async () => {
    const t = setup(3_000);
    t.prober.update(t.pod, t.runtimeStatus, '10.0.0.5');
    const generated = generatePodStatus(t.pod, t.runtimeStatus, {
      now: t.clock.now(),
      hostIPs: ['192.168.0.1'],
      ready: (id, c) => t.prober.ready(id, c),
      started: (id, c) => t.prober.started(id, c),
    });
    expect(ready(generated)).toBe('False');
    await t.clock.advanceAsync(3_000, settle);
    const readyNow = (id: string, name: string) =>
      name === 'app' ? t.prober.ready(id, t.pod.spec.containers[0]!) : undefined;
    const status = withReadinessAsNow(t.pod, generated, readyNow, t.clock.now());
    expect([ready(status), status.containerStatuses?.[0]?.ready]).toEqual(['True', true]);
    expect(status.conditions?.find((c) => c.type === 'ContainersReady')?.status).toBe('True');
    // Nothing to change: the same status back; a container it does not know is left as it is.
    expect(withReadinessAsNow(t.pod, status, readyNow, t.clock.now())).toBe(status);
    expect(withReadinessAsNow(t.pod, generated, () => undefined, t.clock.now())).toBe(generated);
    await t.prober.close();
  });
});
