import { describe, expect, it } from 'vitest';
import { Backoff, InvalidOptionError } from '../src/index';

describe('Backoff', () => {
  it('doubles from 800 ms up to the 30 s cap without jitter', () => {
    let t = 0;
    const b = new Backoff(
      { jitter: 0 },
      () => t,
      () => 0.5,
    );
    const delays = Array.from({ length: 8 }, () => {
      t += 10;
      return b.next();
    });
    expect(delays).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  });

  it('adds jitter in [0, jitter) of the base delay', () => {
    const b = new Backoff(
      { initialMs: 100, jitter: 1 },
      () => 0,
      () => 0.25,
    );
    expect(b.next()).toBe(125);
    expect(b.next()).toBe(250);
  });

  it('starts over after reset() and after a quiet period', () => {
    let t = 0;
    const b = new Backoff({ initialMs: 100, jitter: 0, resetAfterMs: 1000 }, () => t);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
    b.next();
    t += 5000;
    expect(b.next()).toBe(100);
  });

  it('rejects nonsensical options with the option name', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(InvalidOptionError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(/backoff.maxMs/);
  });
});
