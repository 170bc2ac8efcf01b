import { afterEach, describe, expect, it } from 'vitest';
import type { PodRuntimeStatus } from '../src/cri/runtime-state';
import { PodCache } from '../src/pleg/pod-cache';
import { ORPHANED_POD_GRACE_PERIOD_SECONDS, OrphanedRuntimePods } from '../src/sync/orphaned-runtime-pods';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';
import { type LoggedLine, recordingLogger } from './helpers/recording-logger';
import { runningPodRuntimeStatus } from './helpers/running-pod-runtime-status';

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("orphaned runtime pods (upstream HandlePodCleanups' 'Clean up orphaned pod containers')", () => {
  it('after a restart, stops the running pod no source gives any more, once the sources are ready, and leaves the others running', async () => {
    h = await startEngine();
    const keep = testPod({}, 'keep');
    const gone = testPod({}, 'gone');
    h.kubelet.addPod(keep);
    h.kubelet.addPod(gone);
    await h.settleThroughRelists();
    const states = async (uid: string) => {
      const { containers } = await h!.client.listContainers({});
      const { items } = await h!.client.listPodSandbox({});
      return {
        containers: containers.filter((c) => c.labels['io.kubernetes.pod.uid'] === uid).map((c) => c.state),
        sandboxes: items.filter((s) => s.metadata?.uid === uid).map((s) => s.state),
      };
    };
    const running = { containers: [1], sandboxes: [0] };
    expect(await states(gone.metadata.uid!)).toEqual(running);

    // Down with both running; `gone` is deleted meanwhile, so the restarted kubelet never gets it.
    await h.kubelet.stop();
    const next = await h.restart();
    next.addPod(keep);
    await next.pleg.relist();
    await next.settle();
    // Before the sources are ready, a pod not given yet may be on its way: nothing is stopped.
    expect(await states(gone.metadata.uid!)).toEqual(running);

    await next.markSourcesReady();
    await next.pleg.relist();
    await next.settle();
    // Container exited, sandbox not ready (CRI CONTAINER_EXITED = 2, SANDBOX_NOTREADY = 1).
    expect(await states(gone.metadata.uid!)).toEqual({ containers: [2], sandboxes: [1] });
    expect(await states(keep.metadata.uid!)).toEqual(running);
    expect(next.getPodStatus(keep.metadata.uid!)?.phase).toBe('Running');
  });

  it('kills with the 1 s override, once per observation; a failed kill is tried again at the next sweep', async () => {
    const cache = new PodCache();
    const orphan: PodRuntimeStatus = { ...runningPodRuntimeStatus(1_000), uid: 'orphan' };
    const known: PodRuntimeStatus = { ...runningPodRuntimeStatus(1_000), uid: 'known' };
    const stopped: PodRuntimeStatus = {
      ...runningPodRuntimeStatus(1_000),
      uid: 'stopped',
      sandboxes: [],
      containers: [{ ...runningPodRuntimeStatus(1_000).containers[0]!, state: 'exited' }],
    };
    for (const status of [orphan, known, stopped]) cache.set(status.uid, status, 0);
    const kills: [string, number | undefined][] = [];
    let failNext = true;
    const logs: LoggedLine[] = [];
    const orphans = new OrphanedRuntimePods({
      pods: {
        pod: (uid) => (uid === 'known' ? testPod() : undefined),
        rejection: () => undefined,
        eviction: () => undefined,
        wasRemoved: () => false,
      },
      cache,
      // A runtime that cannot give a container's annotations: the orphan is killed without a spec.
      runtime: {},
      syncer: {
        killPod: async (pod, status, grace) => {
          expect(pod).toBeUndefined();
          kills.push([status.uid, grace]);
          if (failNext) {
            failNext = false;
            throw new Error('rpc error: code = Unavailable');
          }
        },
      },
      logger: recordingLogger(logs),
    });

    await orphans.killOrphans();
    expect(kills).toEqual([['orphan', ORPHANED_POD_GRACE_PERIOD_SECONDS]]);
    expect(ORPHANED_POD_GRACE_PERIOD_SECONDS).toBe(1);
    expect(logs.map((l) => [l.msg, l.obj.podUID])).toEqual([
      ['Clean up orphaned pod containers', 'orphan'],
      ['Failed to kill an orphaned pod', 'orphan'],
    ]);
    // The failure is tried again though the cache still holds the same observation.
    await orphans.killOrphans();
    expect(kills).toHaveLength(2);
    // Killed: not again while the cache holds what it was killed from...
    await orphans.killOrphans();
    expect(kills).toHaveLength(2);
    // ...but again when a newer observation still shows it running.
    cache.set('orphan', { ...orphan }, 1, 1);
    await orphans.killOrphans();
    expect(kills).toHaveLength(3);
  });

  it("runs the orphan's preStop hook from its container's annotations and records the Killing event, as upstream's restored spec", async () => {
    const events: string[] = [];
    h = await startEngine({
      api: {
        recordEvent: (pod, type, reason, message) =>
          events.push(`${pod.metadata.name} ${type} ${reason}: ${message}`),
      },
    });
    const gone = testPod({}, 'gone');
    gone.spec.containers[0]!.lifecycle = { preStop: { exec: { command: ['sh', '-c', 'echo draining'] } } };
    h.kubelet.addPod(gone);
    await h.settleThroughRelists();
    await h.kubelet.stop();
    const next = await h.restart();
    const calls = h.fake.calls.length;
    events.length = 0;
    await next.markSourcesReady();
    const made = h.fake.calls.slice(calls);
    // The hook ran (ExecSync), then the container was stopped.
    expect(made.indexOf('ExecSync')).toBeGreaterThanOrEqual(0);
    expect(made.indexOf('ExecSync')).toBeLessThan(made.indexOf('StopContainer'));
    expect(events).toContain('gone Normal Killing: Stopping container app');
  });
});
