import { describe, expect, it } from 'vitest';
import type { Pod, PodCondition, PodStatus } from '../src/api/pod-types';
import { StatusManager } from '../src/status/status-manager';
import { makePod } from './helpers/fixtures';

describe('StatusManager', () => {
  it('writes only changed statuses, newest wins, one write at a time', async () => {
    const written: PodStatus[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const manager = new StatusManager({
      writer: {
        patchStatus: async (_pod: Pod, status: PodStatus) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 5));
          written.push(status);
          inFlight--;
        },
      },
    });
    const pod = makePod();
    manager.setPodStatus(pod, { phase: 'Pending' });
    manager.setPodStatus(pod, { phase: 'Pending' });
    manager.setPodStatus(pod, { phase: 'Running' });
    manager.setPodStatus(pod, { phase: 'Running', podIP: '10.0.0.1' });
    await manager.flush();
    expect(maxInFlight).toBe(1);
    expect(written[0]).toEqual({ phase: 'Pending' });
    expect(written.at(-1)).toEqual({ phase: 'Running', podIP: '10.0.0.1' });
    const count = written.length;
    manager.setPodStatus(pod, { phase: 'Running', podIP: '10.0.0.1' });
    await manager.flush();
    expect(written.length).toBe(count);
    expect(manager.writes).toBe(count);
  });

  it('works without a writer (standalone) and flush resolves', async () => {
    const manager = new StatusManager();
    const pod = makePod();
    manager.setPodStatus(pod, { phase: 'Running' });
    await manager.flush();
    manager.setPodStatus(pod, { phase: 'Succeeded' });
    await manager.flush();
    expect(manager.getPodStatus(pod.metadata.uid!)).toEqual({ phase: 'Succeeded' });
    expect(manager.writes).toBe(0);
  });

  it('retries a failed write on the next change and reports the error', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const written: PodStatus[] = [];
    const manager = new StatusManager({
      writer: {
        patchStatus: async (_pod, status) => {
          if (fail) throw new Error('conflict');
          written.push(status);
        },
      },
      onError: (_pod, error) => errors.push(error),
    });
    const pod = makePod();
    manager.setPodStatus(pod, { phase: 'Running' });
    await manager.flush();
    expect(errors).toHaveLength(1);
    fail = false;
    manager.setPodStatus(pod, { phase: 'Running' });
    await manager.flush();
    expect(written).toEqual([{ phase: 'Running' }]);
  });

  it("flushPod waits for that pod's writes only, including a status queued behind the one in flight", async () => {
    const held = new Map<string, () => void>();
    const written: string[] = [];
    const manager = new StatusManager({
      writer: {
        patchStatus: (pod: Pod, status: PodStatus) =>
          new Promise<void>((resolve) => {
            const uid = pod.metadata.uid ?? '';
            held.set(uid, () => {
              written.push(`${uid}:${status.phase}`);
              resolve();
            });
          }),
      },
    });
    const slow = makePod({}, { uid: 'slow', name: 'slow' });
    const fast = makePod({}, { uid: 'fast', name: 'fast' });
    manager.setPodStatus(slow, { phase: 'Running' });
    manager.setPodStatus(fast, { phase: 'Running' });
    manager.setPodStatus(fast, { phase: 'Succeeded' });
    let fastFlushed = false;
    const flushed = manager.flushPod('fast').then(() => {
      fastFlushed = true;
    });
    const release = async (uid: string) => {
      await Promise.resolve();
      held.get(uid)?.();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    await release('fast');
    // The first write is done, the newer status is being written: not flushed yet.
    expect(fastFlushed).toBe(false);
    await release('fast');
    await flushed;
    expect(written).toEqual(['fast:Running', 'fast:Succeeded']);
    // The other pod's write is still held, and flushPod of a pod without writes resolves at once.
    await manager.flushPod('unknown');
    held.get('slow')?.();
    await manager.flush();
    expect(written).toEqual(['fast:Running', 'fast:Succeeded', 'slow:Running']);
  });
  it('withLastStatus: kubelet conditions from the last status, the others as the API shows them now', () => {
    const manager = new StatusManager();
    const gate = 'example.com/gate';
    const pod = makePod();
    manager.setPodStatus(pod, {
      phase: 'Running',
      conditions: [
        { type: gate, status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
    });
    // A client flipped Ready, flipped its gate and added a condition of its own.
    const fromApi: Pod = {
      ...pod,
      status: {
        phase: 'Running',
        conditions: [
          { type: gate, status: 'True' },
          { type: 'Ready', status: 'False' },
          { type: 'example.com/other', status: 'True' },
        ],
      },
    };
    expect(manager.withLastStatus(fromApi).status?.conditions).toEqual([
      { type: gate, status: 'True' },
      { type: 'example.com/other', status: 'True' },
      { type: 'Ready', status: 'True' },
    ]);
  });

  it("withLastStatus keeps the kubelet's own DisruptionTarget until the API shows one", () => {
    const manager = new StatusManager();
    const pod = makePod();
    const target: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet' };
    manager.setPodStatus(pod, { phase: 'Failed', conditions: [target] });
    expect(manager.withLastStatus({ ...pod, status: { conditions: [] } }).status?.conditions).toEqual([
      target,
    ]);
    const shown = { ...target, message: 'as stored' };
    expect(manager.withLastStatus({ ...pod, status: { conditions: [shown] } }).status?.conditions).toEqual([
      shown,
    ]);
  });
});
