import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatBinary,
  formatMilliCpu,
  InvalidQuantityError,
  parseDuration,
  parseMilliCpu,
  parseQuantity,
} from '../src/index';

describe('resource quantities', () => {
  it('parses binary, decimal, milli and exponent suffixes', () => {
    expect(parseQuantity('f', '1Gi')).toBe(2 ** 30);
    expect(parseQuantity('f', '100Mi')).toBe(100 * 2 ** 20);
    expect(parseQuantity('f', '1.5k')).toBe(1500);
    expect(parseQuantity('f', '2M')).toBe(2e6);
    expect(parseQuantity('f', '1e3')).toBe(1000);
    expect(parseQuantity('f', '250m')).toBeCloseTo(0.25);
    expect(parseMilliCpu('f', '250m')).toBe(250);
    expect(parseMilliCpu('f', '1.5')).toBe(1500);
    expect(parseMilliCpu('f', '2')).toBe(2000);
  });

  it('rejects junk with a typed error naming the field', () => {
    for (const bad of ['', '12Qi', 'abc', '-1Gi', '1 Gi']) {
      expect(() => parseQuantity('kubeReserved.memory', bad)).toThrow(InvalidQuantityError);
    }
    try {
      parseQuantity('kubeReserved.memory', '12Qi');
    } catch (err) {
      expect(err).toMatchObject({ code: 'InvalidQuantity', field: 'kubeReserved.memory', value: '12Qi' });
    }
  });

  it('formats CPU and bytes canonically', () => {
    expect(formatMilliCpu(2000)).toBe('2');
    expect(formatMilliCpu(1900)).toBe('1900m');
    expect(formatBinary(8 * 2 ** 30)).toBe('8Gi');
    expect(formatBinary(16_384_000 * 1024)).toBe('16000Mi');
    expect(formatBinary(1023 * 1024)).toBe('1023Ki');
    expect(formatBinary(1000)).toBe('1000');
    expect(formatBinary(0)).toBe('0');
  });

  it('formatBinary round-trips through parseQuantity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (n) => {
        expect(parseQuantity('f', formatBinary(n))).toBe(n);
      }),
    );
  });

  it('parses Go durations', () => {
    expect(parseDuration('f', '10s')).toBe(10_000);
    expect(parseDuration('f', '5m0s')).toBe(300_000);
    expect(parseDuration('f', '1m30s')).toBe(90_000);
    expect(parseDuration('f', '500ms')).toBe(500);
    expect(parseDuration('f', 250)).toBe(250);
    expect(() => parseDuration('nodeStatusUpdateFrequency', '10')).toThrow(/nodeStatusUpdateFrequency/);
    expect(() => parseDuration('f', '10s junk')).toThrow();
  });
});
