import { describe, expect, it } from 'vitest';
import { canonicalQuantity, compareQuantities, quantityFromValue } from '../src/apiserver/quantity-text';

describe('Quantity text as kube-apiserver prints it', () => {
  it('canonicalises decimal quantities to the largest whole suffix', () => {
    expect(canonicalQuantity('1000m')).toBe('1');
    expect(canonicalQuantity('0.5')).toBe('500m');
    expect(canonicalQuantity('1500m')).toBe('1500m');
    expect(canonicalQuantity('2000')).toBe('2k');
    expect(canonicalQuantity('1e3')).toBe('1k');
  });
  it('keeps binary quantities binary while they are whole bytes', () => {
    expect(canonicalQuantity('1024Ki')).toBe('1Mi');
    expect(canonicalQuantity('24683072Ki')).toBe('24683072Ki');
    expect(canonicalQuantity('24576Ki')).toBe('24Mi');
    expect(canonicalQuantity('1.5Ki')).toBe('1536');
    expect(canonicalQuantity('0.5Ki')).toBe('512');
  });
  it('prints computed values in the format asked for, exactly beyond 2^53 nanos', () => {
    expect(quantityFromValue(150 * 2 ** 20, true)).toBe('150Mi');
    expect(quantityFromValue(0.15, false)).toBe('150m');
    expect(quantityFromValue(24683072 * 1024, true)).toBe('24683072Ki');
    expect(quantityFromValue(64 * 2 ** 40, true)).toBe('64Ti');
  });
  it('compares quantities by value', () => {
    expect(compareQuantities('1', '1000m')).toBe(0);
    expect(compareQuantities('64Mi', '48Mi')).toBe(1);
    expect(compareQuantities('100m', '0.2')).toBe(-1);
  });
});
