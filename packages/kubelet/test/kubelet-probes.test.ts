import { systemClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { waitFor } from './helpers/wait-for';

let h: EngineHarness;
beforeEach(async () => {
  // Real PLEG and retry cadence on the real clock: probe results arrive on their own timers.
  h = await startEngine({ pacing: { relistPeriodMs: 100, retryMs: 200, clock: systemClock } });
});
afterEach(async () => {
  await h.close();
});

/** What `record` makes of each ExecSync the fake runtime gets; every one exits 0 at once. */
function recordingExecs<T>(record: (cmd: string[]) => T): T[] {
  const seen: T[] = [];
  h.fake.onExecSync((_id, cmd) => {
    seen.push(record(cmd));
    return { stdout: '', stderr: '', exitCode: 0, blocks: false };
  });
  return seen;
}

describe('probes through @nodeagent/probes', () => {
  it('keeps a container unready until its exec readiness probe passes (ExecSync in that container)', async () => {
    let healthy = false;
    const execs: string[] = [];
    h.fake.onExecSync((id, cmd) => {
      execs.push(`${id}:${cmd.join(' ')}`);
      return { stdout: '', stderr: healthy ? '' : 'not yet', exitCode: healthy ? 0 : 1, blocks: false };
    });
    const pod = testPod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
        },
      ],
    });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    const uid = pod.metadata.uid!;
    expect(h.kubelet.getPodStatus(uid)?.phase).toBe('Running');
    await waitFor('a probe run', () => execs.length > 0);
    expect(h.kubelet.getPodStatus(uid)?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    const containerId = h.kubelet
      .getPodStatus(uid)!
      .containerStatuses![0]!.containerID!.replace('containerd://', '');
    expect(execs[0]).toBe(`${containerId}:cat /tmp/ready`);
    healthy = true;
    await waitFor(
      'Ready',
      () => h.kubelet.getPodStatus(uid)?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
    );
    expect(h.kubelet.getPodStatus(uid)!.containerStatuses![0]!.ready).toBe(true);
  }, 20_000);

  it("expands $(VAR) in an exec probe's command from the container's static env, as upstream's prober", async () => {
    const execs = recordingExecs((cmd) => cmd);
    const pod = testPod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          env: [
            { name: 'FILE', value: '/tmp/first' },
            { name: 'FILE', value: '/tmp/ready' },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          ],
          // FILE: the later entry; NODE (valueFrom): ""; $$: an escaped $; MISSING: as written.
          readinessProbe: {
            exec: { command: ['check', '$(FILE)', 'node=$(NODE)', '$$(FILE)', '$(MISSING)'] },
            periodSeconds: 1,
          },
        },
      ],
    });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    await waitFor('a probe run', () => execs.length > 0);
    expect(execs[0]).toEqual(['check', '/tmp/ready', 'node=', '$(FILE)', '$(MISSING)']);
  }, 20_000);

  it('probes readiness as soon as the container runs and publishes Ready at once', async () => {
    const execs = recordingExecs(() => Date.now());
    // A one-hour period: without the immediate first run, Ready would wait for the jittered tick.
    const pod = testPod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          readinessProbe: { exec: { command: ['true'] }, periodSeconds: 3600 },
        },
      ],
    });
    h.kubelet.addPod(pod);
    const uid = pod.metadata.uid!;
    await waitFor(
      'Ready',
      () => h.kubelet.getPodStatus(uid)?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
    );
    expect(execs).toHaveLength(1);
    expect(h.kubelet.getPodStatus(uid)!.containerStatuses![0]!.ready).toBe(true);
  }, 20_000);

  it('restarts a container whose liveness probe fails', async () => {
    h.fake.onExecSync(() => ({ stdout: '', stderr: 'dead', exitCode: 1, blocks: false }));
    const pod = testPod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    });
    h.kubelet.addPod(pod);
    const status = await waitFor('a restart', () => {
      const c = h.kubelet.getPodStatus(pod.metadata.uid!)?.containerStatuses?.[0];
      return c && c.restartCount >= 1 ? c : undefined;
    });
    expect(status.lastState.terminated?.exitCode).toBe(143);
  }, 20_000);
});
