import { readFileSync } from 'node:fs';
import { systemClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Pod } from '../src/api/pod-types';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { waitFor } from './helpers/wait-for';

type Recorded = { pod: string; type: string; reason: string; message: string; fieldPath?: string };

describe('probe events (upstream prober: Warning Unhealthy "<Type> probe failed: <output>")', () => {
  let h: EngineHarness;
  let events: Recorded[];
  beforeEach(async () => {
    events = [];
    h = await startEngine({
      // The node pods-v1.36's pods were bound to: admission checks spec.nodeName.
      node: { name: 'n-stored' },
      pacing: {
        // Real PLEG and retry cadence on the real clock: probe runs come on their own timers.
        clock: systemClock,
        relistPeriodMs: 100,
        retryMs: 200,
      },
      api: {
        recordEvent: (pod, type, reason, message, fieldPath) =>
          events.push({ pod: pod.metadata.name ?? '', type, reason, message, fieldPath }),
      },
    });
  });
  afterEach(async () => h.close());

  it('records Unhealthy on the container for each failed liveness and readiness run, none for a passing one', async () => {
    h.fake.onExecSync((_id, cmd) =>
      cmd[0] === 'live'
        ? { stdout: 'dead\n', stderr: '', exitCode: 1, blocks: false }
        : cmd[0] === 'ready'
          ? { stdout: '', stderr: '', exitCode: 1, blocks: false }
          : { stdout: '', stderr: '', exitCode: 0, blocks: false },
    );
    const pod = testPod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          // A high threshold: failures are recorded, the container is not restarted meanwhile.
          livenessProbe: { exec: { command: ['live'] }, periodSeconds: 1, failureThreshold: 100 },
          readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 },
          startupProbe: { exec: { command: ['ok'] }, periodSeconds: 1 },
        },
      ],
    });
    h.kubelet.addPod(pod);
    const unhealthy = () => events.filter((e) => e.reason === 'Unhealthy');
    await waitFor('a liveness and a readiness failure event', () => {
      const messages = unhealthy().map((e) => e.message);
      return (
        messages.some((m) => m.startsWith('Liveness')) && messages.some((m) => m.startsWith('Readiness'))
      );
    });
    for (const event of unhealthy())
      expect(event).toMatchObject({
        pod: pod.metadata.name,
        type: 'Warning',
        fieldPath: 'spec.containers{app}',
      });
    expect(new Set(unhealthy().map((e) => e.message))).toEqual(
      new Set(['Liveness probe failed: dead\n', 'Readiness probe failed: ']),
    );
    expect(events.some((e) => e.message.startsWith('Startup'))).toBe(false);
  }, 20_000);

  it('records an errored run (ExecSync refused: the command is not in the image) as upstream: "errored and resulted in unknown state", the gRPC error in Go\'s form', async () => {
    let runs = 0;
    // The fake runs any command it does not know as containerd does: refused, Unknown.
    h.fake.onExecSync(() => {
      runs++;
      return undefined;
    });
    const pod = testPod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          readinessProbe: { exec: { command: ['/no/such/check'] }, periodSeconds: 1 },
        },
      ],
    });
    h.kubelet.addPod(pod);
    const errored = await waitFor('an errored readiness event', () =>
      events.find((e) => e.reason === 'Unhealthy' && e.message.startsWith('Readiness probe errored')),
    );
    expect(errored).toMatchObject({ type: 'Warning', fieldPath: 'spec.containers{app}' });
    expect(errored.message).toMatch(
      /^Readiness probe errored and resulted in unknown state: rpc error: code = Unknown desc = failed to exec in container: failed to start exec "[0-9a-f]+": OCI runtime exec failed: .*\/no\/such\/check/,
    );
    // Each period's run is tried three times (maxProbeRetries) before the error is recorded.
    expect(runs).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it("liveness-fail of pods-v1.36 gets upstream v1.36.3's distinct events (Unhealthy, Killing, BackOff …)", async () => {
    // fidelity/ in the repository; normalised as pod-events-golden.test.ts (image, token volume,
    // a long-running command the fake's shell runs); counts are timing dependent and not compared.
    const fidelity = new URL('../../../fidelity/', import.meta.url);
    const load = (path: string) =>
      parseAllDocuments(readFileSync(new URL(path, fidelity), 'utf8')).flatMap((d) => d.toJS() ?? []);
    const fixtureImage = 'localhost/busybox:1';
    const stored = (load('pods-v1.36/pods.yaml') as Pod[]).find((p) => p.metadata.name === 'liveness-fail')!;
    const pod = structuredClone(stored);
    pod.metadata.namespace = 'fid';
    pod.spec.volumes = (pod.spec.volumes ?? []).filter((v) => !v.name.startsWith('kube-api-access-'));
    const c = pod.spec.containers[0]!;
    c.image = busybox;
    c.command = ['sh', '-c', 'sleep 3600'];
    c.volumeMounts = [];
    // /bin/false: exit 1, no output.
    h.fake.onExecSync(() => ({ stdout: '', stderr: '', exitCode: 1, blocks: false }));
    const key = (e: { fieldPath?: string; type: string; reason: string; message: string }) =>
      `${e.fieldPath ?? '-'} ${e.type} ${e.reason}: ${e.message.replaceAll(busybox, fixtureImage)}`;
    const expected = new Set(
      (load('pod-status-v1.36/events.upstream.yaml') as Recorded[])
        .filter((e) => (e as unknown as { object: string }).object === 'Pod/liveness-fail')
        .map(key),
    );
    h.kubelet.addPod(pod);
    const ours = () => new Set(events.filter((e) => e.pod === 'liveness-fail').map(key));
    // The restart is held back (BackOff, 10 s): every distinct event is in before it ends.
    await waitFor('the distinct events', () => ours().size >= expected.size, 30_000);
    expect([...ours()].sort()).toEqual([...expected].sort());
  }, 40_000);
});
