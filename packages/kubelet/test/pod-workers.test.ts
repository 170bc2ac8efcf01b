import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { PodWorkers } from '../src/workers/pod-workers';
import { makePod } from './helpers/fixtures';

function recorder(terminalAfter = Number.POSITIVE_INFINITY) {
  const calls: string[] = [];
  let syncs = 0;
  let active = 0;
  let maxActive = 0;
  const step = async (label: string) => {
    active++;
    maxActive = Math.max(maxActive, active);
    calls.push(label);
    await new Promise((resolve) => setTimeout(resolve, 2));
    active--;
  };
  const workers = new PodWorkers(
    {
      syncPod: async (pod, type) => {
        await step(`sync:${type}:${pod.metadata.labels?.v ?? ''}`);
        syncs++;
        return { terminal: syncs >= terminalAfter };
      },
      syncTerminatingPod: async (_pod, grace) => step(`terminating:${grace}`),
      syncTerminatedPod: async () => step('terminated'),
    },
    { retryMs: 60_000 },
  );
  return { workers, calls, maxActive: () => maxActive };
}

const withLabel = (pod: Pod, v: string): Pod => ({ ...pod, metadata: { ...pod.metadata, labels: { v } } });

describe('PodWorkers', () => {
  it('serializes work per pod and coalesces updates into the newest', async () => {
    const { workers, calls, maxActive } = recorder();
    const pod = makePod();
    workers.updatePod({ pod: withLabel(pod, '1'), updateType: 'create' });
    workers.updatePod({ pod: withLabel(pod, '2'), updateType: 'update' });
    workers.updatePod({ pod: withLabel(pod, '3'), updateType: 'sync' });
    await workers.idle();
    expect(maxActive()).toBe(1);
    // The first runs at once; the two that queued behind it collapse into one with the newest pod.
    expect(calls).toEqual(['sync:create:1', 'sync:update:3']);
  });

  it('terminates once with the shortest grace period and never syncs again', async () => {
    const { workers, calls } = recorder();
    const pod = makePod();
    workers.updatePod({ pod, updateType: 'create' });
    workers.updatePod({ pod, updateType: 'kill', gracePeriodSeconds: 30 });
    workers.updatePod({ pod, updateType: 'kill', gracePeriodSeconds: 5 });
    workers.updatePod({ pod, updateType: 'kill', gracePeriodSeconds: 20 });
    await workers.idle();
    workers.updatePod({ pod, updateType: 'sync' });
    await workers.idle();
    expect(calls).toEqual(['sync:create:', 'terminating:5', 'terminated']);
    expect(workers.isTerminated(pod.metadata.uid!)).toBe(true);
    workers.forget(pod.metadata.uid!);
    expect(workers.phase(pod.metadata.uid!)).toBeUndefined();
  });

  it("retries a terminated pod's failed cleanup on the next update, and only until it succeeds", async () => {
    const calls: string[] = [];
    const errors: string[] = [];
    let failures = 1;
    const workers = new PodWorkers(
      {
        syncPod: async () => ({ terminal: false }),
        syncTerminatingPod: async () => {
          calls.push('terminating');
        },
        syncTerminatedPod: async () => {
          calls.push('terminated');
          if (failures-- > 0) throw new Error('runtime unavailable');
        },
        onError: (_pod, stage, error) => errors.push(`${stage}: ${(error as Error).message}`),
      },
      { retryMs: 60_000 },
    );
    const pod = makePod();
    workers.updatePod({ pod, updateType: 'kill' });
    await workers.idle();
    expect(errors).toEqual(['terminated: runtime unavailable']);
    // The retry timer's update, or any other, runs the cleanup again (not the termination).
    workers.updatePod({ pod, updateType: 'sync' });
    await workers.idle();
    workers.updatePod({ pod, updateType: 'sync' });
    await workers.idle();
    workers.stop();
    expect(calls).toEqual(['terminating', 'terminated', 'terminated']);
    expect(workers.isTerminated(pod.metadata.uid!)).toBe(true);
  });

  it('schedules no retry once stopped: a sync in flight at stop() that fails is not run again', async () => {
    const clock = new FakeClock();
    let release: () => void = () => {};
    const syncs: string[] = [];
    const workers = new PodWorkers(
      {
        syncPod: async (_pod, type) => {
          syncs.push(type);
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          throw new Error('runtime unavailable');
        },
        syncTerminatingPod: async () => {},
        syncTerminatedPod: async () => {},
      },
      { retryMs: 1_000, clock },
    );
    const pod = makePod();
    workers.updatePod({ pod, updateType: 'create' });
    await Promise.resolve();
    workers.stop();
    release();
    await workers.idle();
    expect(workers.hasScheduledRetry(pod.metadata.uid!)).toBe(false);
    clock.advance(60_000);
    await workers.idle();
    expect(syncs).toEqual(['create']);
  });

  it('moves a pod that reached a terminal phase to terminating by itself', async () => {
    const { workers, calls } = recorder(1);
    workers.updatePod({ pod: makePod(), updateType: 'create' });
    await workers.idle();
    expect(calls).toEqual(['sync:create:', 'terminating:undefined', 'terminated']);
  });

  it('runs different pods concurrently', async () => {
    const { workers, maxActive } = recorder();
    for (let i = 0; i < 5; i++)
      workers.updatePod({ pod: makePod({}, { uid: `u-${i}` }), updateType: 'create' });
    await workers.idle();
    expect(maxActive()).toBe(5);
  });
});
