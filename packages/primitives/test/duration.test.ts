import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, InvalidDurationError, parseDuration } from '../src/index';

describe('parseDuration', () => {
  it('reads Go durations into milliseconds', () => {
    expect(parseDuration('1m0s')).toBe(60_000);
    expect(parseDuration('2h45m')).toBe(9_900_000);
    expect(parseDuration('100ms')).toBe(100);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('.5s')).toBe(500);
    expect(parseDuration('1500us')).toBe(1.5);
    expect(parseDuration('1µs')).toBe(0.001);
    expect(parseDuration('1μs')).toBe(0.001);
    expect(parseDuration('1000000ns')).toBe(1);
    expect(parseDuration('-2s')).toBe(-2000);
    expect(parseDuration('+3m')).toBe(180_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('-0')).toBe(0);
  });

  it('rejects what Go rejects, naming the field and value', () => {
    for (const bad of ['', '10', '5 minutes', '1d', 's', '1s junk', '-', '1.s.5']) {
      expect(() => parseDuration(bad, 'spec.period')).toThrow(InvalidDurationError);
    }
    try {
      parseDuration('10', 'iptables.syncPeriod');
      expect.unreachable();
    } catch (e) {
      const err = e as InvalidDurationError;
      expect(err.code).toBe('INVALID_DURATION');
      expect(err.field).toBe('iptables.syncPeriod');
      expect(err.value).toBe('10');
      expect(err.message).toMatch(/^iptables\.syncPeriod: .*\(got "10"\)$/);
    }
  });
});

describe('formatDuration', () => {
  it('prints like Go', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(100)).toBe('100ms');
    expect(formatDuration(60_000)).toBe('1m0s');
    expect(formatDuration(3_725_000)).toBe('1h2m5s');
    expect(formatDuration(90_500)).toBe('1m30.5s');
    expect(formatDuration(-1500)).toBe('-1.5s');
  });

  it('round-trips whole milliseconds through parseDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e10, max: 1e10 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});
