import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatBinary,
  formatCount,
  formatMilliCpu,
  InvalidQuantityError,
  milliValue,
  parseQuantity,
} from '../src/index';

const BINARY = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL_EXPONENT = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

describe('parseQuantity', () => {
  it('reads every suffix form', () => {
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('100Mi')).toBe(100 * 2 ** 20);
    expect(parseQuantity('1.5k')).toBe(1500);
    expect(parseQuantity('2M')).toBe(2e6);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('1E3')).toBe(1000);
    expect(parseQuantity('1E')).toBe(1e18);
    expect(parseQuantity('15e-1')).toBe(1.5);
    expect(parseQuantity('250m')).toBe(0.25);
    expect(parseQuantity('5u')).toBeCloseTo(5e-6, 15);
    expect(parseQuantity('7n')).toBeCloseTo(7e-9, 18);
    expect(parseQuantity('-1')).toBe(-1);
    expect(parseQuantity('-500m')).toBe(-0.5);
    expect(parseQuantity('+2Ki')).toBe(2048);
    expect(parseQuantity('.5')).toBe(0.5);
    expect(parseQuantity('5.')).toBe(5);
    expect(parseQuantity(42)).toBe(42);
  });

  it('rejects what resource.ParseQuantity rejects, naming field and value', () => {
    for (const bad of [
      '',
      ' 1',
      '1 ',
      '12Qi',
      '1KI',
      '1ki',
      'Gi',
      '1.2.3',
      '--1',
      '1e',
      '1e1.5',
      '1Gi1',
      'e3',
    ]) {
      expect(() => parseQuantity(bad, 'kubeReserved.memory')).toThrow(InvalidQuantityError);
    }
    try {
      parseQuantity('12Qi', 'kubeReserved.memory');
      expect.unreachable();
    } catch (e) {
      const err = e as InvalidQuantityError;
      expect(err.code).toBe('INVALID_QUANTITY');
      expect(err.field).toBe('kubeReserved.memory');
      expect(err.value).toBe('12Qi');
    }
    expect(() => parseQuantity(Number.NaN)).toThrow(InvalidQuantityError);
  });

  it('scales by each suffix and negates with the sign (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.constantFrom(...Object.keys(BINARY)),
        fc.constantFrom(...Object.keys(DECIMAL_EXPONENT)),
        (n, bin, dec) => {
          expect(parseQuantity(`${n}${bin}`)).toBe(n * BINARY[bin as keyof typeof BINARY]);
          const exp = DECIMAL_EXPONENT[dec as keyof typeof DECIMAL_EXPONENT];
          expect(parseQuantity(`${n}${dec}`)).toBe(parseQuantity(`${n}e${exp}`));
          expect(parseQuantity(`-${n}${bin}`)).toBe(-parseQuantity(`${n}${bin}`));
          expect(parseQuantity(`+${n}${dec}`)).toBe(parseQuantity(`${n}${dec}`));
        },
      ),
    );
  });
});

describe('milliValue', () => {
  it('rounds up like Quantity.MilliValue, away from zero for negatives', () => {
    expect(milliValue('100m')).toBe(100);
    expect(milliValue('0.1')).toBe(100);
    expect(milliValue('2')).toBe(2000);
    expect(milliValue('1n')).toBe(1);
    expect(milliValue('1500u')).toBe(2);
    expect(milliValue('-250m')).toBe(-250);
    expect(milliValue('-1u')).toBe(-1);
  });
});

describe('canonical forms', () => {
  it('formatMilliCpu round-trips through milliValue (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (milli) => {
        expect(milliValue(formatMilliCpu(milli))).toBe(milli);
      }),
    );
    expect(formatMilliCpu(2000)).toBe('2');
    expect(formatMilliCpu(1900)).toBe('1900m');
    expect(formatMilliCpu(-5)).toBe('0');
  });

  it('formatBinary picks the largest dividing suffix and round-trips (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(parseQuantity(formatBinary(n))).toBe(n);
      }),
    );
    expect(formatBinary(8 * 2 ** 30)).toBe('8Gi');
    expect(formatBinary(1023 * 1024)).toBe('1023Ki');
    expect(formatBinary(1000)).toBe('1000');
    expect(formatBinary(0)).toBe('0');
  });

  it('formatCount prints whole non-negative numbers', () => {
    expect(formatCount(110)).toBe('110');
    expect(formatCount(3.7)).toBe('3');
    expect(formatCount(-1)).toBe('0');
  });
});
