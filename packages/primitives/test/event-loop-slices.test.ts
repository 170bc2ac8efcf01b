import { describe, expect, it } from 'vitest';
import { EventLoopSlices } from '../src/event-loop-slices';
import { isInvalidOptionError } from '../src/index';

/** Whether what `start` returns settles before a setImmediate queued just before it runs (a turn of the event loop). */
async function settlesBeforeATurn(start: () => Promise<void>): Promise<boolean> {
  let turned = false;
  setImmediate(() => {
    turned = true;
  });
  await start();
  return !turned;
}

describe('EventLoopSlices', () => {
  it('is not spent until sliceMs have passed since it was made, on the injected clock', () => {
    let t = 100;
    const slices = new EventLoopSlices({ sliceMs: 8, now: () => t, cpuMs: () => 0 });
    expect(slices.spent()).toBe(false);
    t = 107.9;
    expect(slices.spent()).toBe(false);
    t = 108;
    expect(slices.spent()).toBe(true);
  });

  it('next() resolves without a turn of the event loop inside the slice, after one once it is spent', async () => {
    let t = 0;
    const slices = new EventLoopSlices({ sliceMs: 8, now: () => t, cpuMs: () => 0 });
    t = 5;
    expect(await settlesBeforeATurn(() => slices.next())).toBe(true);
    t = 9;
    expect(await settlesBeforeATurn(() => slices.next())).toBe(false);
    // The turn started a new slice at 9.
    t = 16;
    expect(slices.spent()).toBe(false);
    t = 17;
    expect(slices.spent()).toBe(true);
  });

  it('turn() always hands the event loop back and starts a new slice', async () => {
    let t = 0;
    const slices = new EventLoopSlices({ sliceMs: 8, now: () => t, cpuMs: () => 0 });
    t = 3;
    expect(await settlesBeforeATurn(() => slices.turn())).toBe(false);
    t = 10;
    expect(slices.spent()).toBe(false);
    t = 11;
    expect(slices.spent()).toBe(true);
  });

  it('with sliceMs 0 every check is spent and every next() takes a turn', async () => {
    const slices = new EventLoopSlices({ sliceMs: 0, now: () => 42, cpuMs: () => 0 });
    expect(slices.spent()).toBe(true);
    expect(await settlesBeforeATurn(() => slices.next())).toBe(false);
    expect(await settlesBeforeATurn(() => slices.next())).toBe(false);
  });

  it('defaults to 8 ms slices', () => {
    let t = 0;
    const slices = new EventLoopSlices({ now: () => t, cpuMs: () => 0 });
    t = 7.5;
    expect(slices.spent()).toBe(false);
    t = 8;
    expect(slices.spent()).toBe(true);
  });

  it('sums the wall and CPU time that passed during its turns, and nothing outside them', async () => {
    let t = 0;
    let cpu = 0;
    const slices = new EventLoopSlices({ sliceMs: 8, now: () => t, cpuMs: () => cpu });
    // Other work during the turn: 3 ms of wall, 2 ms of CPU.
    setImmediate(() => {
      t += 3;
      cpu += 2;
    });
    t = 10;
    cpu = 9;
    await slices.next();
    expect(slices.pausedMs).toBe(3);
    expect(slices.pausedCpuMs).toBe(2);
    // The work itself moves both clocks; a check inside the slice pauses nothing.
    t += 4;
    cpu += 4;
    await slices.next();
    expect(slices.pausedMs).toBe(3);
    expect(slices.pausedCpuMs).toBe(2);
    setImmediate(() => {
      t += 5;
      cpu += 1.5;
    });
    t += 10;
    await slices.next();
    expect(slices.pausedMs).toBe(8);
    expect(slices.pausedCpuMs).toBe(3.5);
  });

  it('reads the real clocks by default', async () => {
    const slices = new EventLoopSlices({ sliceMs: 0 });
    await slices.next();
    expect(slices.pausedMs).toBeGreaterThanOrEqual(0);
    expect(slices.pausedCpuMs).toBeGreaterThanOrEqual(0);
    expect(new EventLoopSlices({ sliceMs: Number.POSITIVE_INFINITY }).spent()).toBe(false);
  });

  it.each([-1, Number.NaN, '8'])('refuses sliceMs %s with INVALID_OPTION naming it', (sliceMs) => {
    let error: unknown;
    try {
      new EventLoopSlices({ sliceMs: sliceMs as number });
    } catch (err) {
      error = err;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^invalid sliceMs /);
  });

  it("checkSliceMs names the caller's option and lets undefined (the default) and Infinity pass", () => {
    expect(() => EventLoopSlices.checkSliceMs(-5, 'encodeSliceMs')).toThrow(/^invalid encodeSliceMs -5: /);
    expect(() => EventLoopSlices.checkSliceMs(undefined, 'encodeSliceMs')).not.toThrow();
    expect(() => EventLoopSlices.checkSliceMs(0)).not.toThrow();
    expect(() => EventLoopSlices.checkSliceMs(Number.POSITIVE_INFINITY)).not.toThrow();
  });
});
