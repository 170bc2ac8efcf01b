import { describe, expect, it } from 'vitest';
import { Backoff, InvalidOptionError } from '../src/index';

describe('Backoff', () => {
  it('grows by factor up to the cap, with jitter from the injected random', () => {
    let t = 0;
    const b = new Backoff({
      initialMs: 100,
      maxMs: 700,
      factor: 2,
      jitter: 0.5,
      now: () => t,
      random: () => 0.5,
    });
    const delays = [1, 2, 3, 4, 5].map(() => {
      t += 1;
      return b.next();
    });
    expect(delays).toEqual([125, 250, 500, 700, 700]);
  });

  it('without jitter is plain doubling; reset and an idle period start over', () => {
    let t = 0;
    const b = new Backoff({ initialMs: 100, maxMs: 7000, jitter: 0, resetAfterMs: 1000, now: () => t });
    expect([b.next(), b.next(), b.next()]).toEqual([100, 200, 400]);
    b.reset();
    expect(b.next()).toBe(100);
    expect(b.next()).toBe(200);
    t += 1001;
    expect(b.next()).toBe(100);
  });

  it("defaults to client-go's reflector backoff: 800 ms doubling to a 30 s cap", () => {
    let t = 0;
    const b = new Backoff({ jitter: 0, now: () => t });
    const delays = Array.from({ length: 8 }, () => {
      t += 10;
      return b.next();
    });
    expect(delays).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  });

  it('rejects options that cannot work, naming them', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(InvalidOptionError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(/backoff\.maxMs/);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(/backoff\.factor/);
    expect(() => new Backoff({ jitter: -1 })).toThrow(/backoff\.jitter/);
    const err = new InvalidOptionError('backoff.factor', 0.5, 'must be >= 1');
    expect(err.code).toBe('INVALID_OPTION');
    expect(err.option).toBe('backoff.factor');
    expect(err.message).toBe('invalid backoff.factor 0.5: must be >= 1');
  });
});
