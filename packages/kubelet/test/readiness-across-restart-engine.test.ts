import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PodStatus } from '../src/api/pod-types';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { waitFor } from './helpers/wait-for';

let h: EngineHarness;
beforeEach(async () => {
  // The runtime's clock a minute behind makes every container look started well before the
  // (restarted) kubelet, whose prober runs on the engine's clock.
  h = await startEngine({}, { runtimeBehindMs: 60_000 });
});
afterEach(async () => {
  await h.close();
});

/** Hang guard only (the machine may be loaded): polls on real time, asserts nothing about it. */

const readyOf = (status: PodStatus | undefined) =>
  status?.conditions?.find((c) => c.type === 'Ready')?.status;

/**
 * A pod whose exec readiness probe answers `exitCode`, run until its Ready condition is `before`;
 * then the kubelet is restarted and given the pod as the API server holds it (with its last
 * status), until the new kubelet's first probe has run and its outcome is synced. Returns the
 * pod's status writes after the restart and the new kubelet.
 */
async function restartAfterReadiness(exitCode: number, before: 'True' | 'False') {
  let execs = 0;
  h.fake.onExecSync(() => {
    execs++;
    return { stdout: '', stderr: exitCode === 0 ? '' : 'not ready', exitCode, blocks: false };
  });
  const pod = testPod({
    containers: [
      {
        name: 'app',
        image: busybox,
        command: ['sh', '-c', 'sleep 3600'],
        readinessProbe: { exec: { command: ['check'] }, periodSeconds: 10 },
      },
    ],
  });
  const uid = pod.metadata.uid ?? '';
  h.kubelet.addPod(pod);
  await h.kubelet.settle();
  await waitFor(`Ready ${before} before the restart`, () => readyOf(h.writer.last(uid)) === before);

  await h.kubelet.stop();
  const writesBefore = h.writer.patches.length;
  const next = await h.restart();
  next.addPod({ ...pod, status: h.writer.last(uid) });
  const execsBefore = execs;
  await next.settle();
  await waitFor('a readiness probe after the restart', () => execs > execsBefore);
  await next.settle();
  return { uid, next, afterRestart: h.writer.patches.slice(writesBefore).filter((p) => p.uid === uid) };
}

describe('a kubelet restart (KEP-4781, upstream v1.35+)', () => {
  it('writes no NotReady for a Ready pod whose containers kept running', async () => {
    const { uid, next, afterRestart } = await restartAfterReadiness(0, 'True');
    expect(afterRestart.map((p) => readyOf(p.status))).not.toContain('False');
    expect(afterRestart.every((p) => p.status.containerStatuses?.[0]?.ready === true)).toBe(true);
    expect(readyOf(next.getPodStatus(uid))).toBe('True');
  }, 120_000);

  it('still waits for the probe when the pod was not Ready before the restart', async () => {
    const { uid, next, afterRestart } = await restartAfterReadiness(1, 'False');
    // The restart rule keeps only a Ready that was there: no status after it says Ready.
    expect(afterRestart.map((p) => readyOf(p.status))).not.toContain('True');
    expect(readyOf(next.getPodStatus(uid))).toBe('False');
  }, 120_000);
});
