import { describe, expect, it } from 'vitest';
import { StartLimiter, type StartStep } from '../src/cri/start-limiter';
import { InvalidConfigError } from '../src/errors';

/** A step that runs until the test lets it finish. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, done };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('StartLimiter', () => {
  it('never runs more steps than its limit and hands a freed slot to the next waiter', async () => {
    const limiter = new StartLimiter(2);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const all = gates.map((g, i) =>
      limiter.run('sandbox', async () => {
        started.push(i);
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await g.done;
        concurrent--;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect(limiter.queued).toBe(3);
    gates[1]!.open();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    await Promise.all(all);
    expect(maxConcurrent).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.running).toBe(0);
  });

  it('serves waiting container steps before waiting sandbox steps, FIFO within each', async () => {
    const limiter = new StartLimiter(1);
    const order: string[] = [];
    const first = gate();
    const running = limiter.run('sandbox', () => first.done);
    const queue = (step: StartStep, name: string) =>
      limiter.run(step, async () => {
        order.push(name);
      });
    const waiting = [
      queue('sandbox', 'sandbox-b'),
      queue('container', 'container-a'),
      queue('sandbox', 'sandbox-c'),
      queue('container', 'container-b'),
    ];
    first.open();
    await Promise.all([running, ...waiting]);
    expect(order).toEqual(['container-a', 'container-b', 'sandbox-b', 'sandbox-c']);
  });

  it('frees the slot when a step fails and passes the error on', async () => {
    const limiter = new StartLimiter(1);
    await expect(
      limiter.run('container', async () => {
        throw new Error('CreateContainer failed');
      }),
    ).rejects.toThrow('CreateContainer failed');
    expect(limiter.running).toBe(0);
    await expect(limiter.run('sandbox', async () => 'next')).resolves.toBe('next');
  });

  it('refuses a limit that is not a positive integer, and runs everything at once with Infinity', async () => {
    expect(() => new StartLimiter(0)).toThrow(InvalidConfigError);
    expect(() => new StartLimiter(1.5)).toThrow(/maxParallelPodStarts/);
    const limiter = new StartLimiter(Number.POSITIVE_INFINITY);
    const gates = Array.from({ length: 50 }, gate);
    const all = gates.map((g) => limiter.run('sandbox', () => g.done));
    await flush();
    expect(limiter.running).toBe(50);
    expect(limiter.queued).toBe(0);
    for (const g of gates) g.open();
    await Promise.all(all);
  });
});
