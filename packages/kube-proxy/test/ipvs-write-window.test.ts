import { describe, expect, it } from 'vitest';
import { WriteWindow } from '../src/ipvs/write-window';

/** A task the test settles by hand. */
function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('WriteWindow', () => {
  it('keeps the outstanding weight under its limit and admits one heavy task alone', async () => {
    const w = new WriteWindow(10);
    const tasks = [4, 4, 4, 30, 1].map(() => deferred());
    let outstanding = 0;
    let most = 0;
    const started: number[] = [];
    const feeding = (async () => {
      for (const [i, weight] of [4, 4, 4, 30, 1].entries()) {
        await w.run(weight, async () => {
          started.push(i);
          outstanding += weight;
          most = Math.max(most, outstanding);
          await tasks[i]!.promise;
          outstanding -= weight;
        });
      }
    })();
    await ticks();
    expect(started).toEqual([0, 1]); // 4 + 4 fits, a third 4 would make 12
    tasks[0]!.resolve();
    await ticks();
    expect(started).toEqual([0, 1, 2]);
    tasks[1]!.resolve();
    tasks[2]!.resolve();
    await ticks(10);
    expect(started).toEqual([0, 1, 2, 3]); // 30 > limit: runs once the window is empty
    tasks[3]!.resolve();
    tasks[4]!.resolve();
    await feeding;
    await w.drain();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(30);
  });

  it('starts nothing after a failure and rejects drain with the first error once all settled', async () => {
    const w = new WriteWindow(2);
    const a = deferred();
    const b = deferred();
    let bSettled = false;
    expect(await w.run(1, () => a.promise)).toBe(true);
    expect(
      await w.run(1, async () => {
        await b.promise.catch(() => undefined);
        bSettled = true;
      }),
    ).toBe(true);
    const third = w.run(1, async () => {
      throw new Error('must not start');
    });
    a.reject(new Error('first'));
    expect(await third).toBe(false);
    let drained: unknown;
    const draining = w.drain().catch((e: unknown) => {
      drained = e;
    });
    await ticks();
    expect(drained).toBeUndefined(); // b is still in flight
    b.reject(new Error('second'));
    await draining;
    expect(bSettled).toBe(true);
    expect((drained as Error).message).toBe('first');
  });
});
