import { describe, expect, it } from 'vitest';
import { resourceListsEqual, resourceRequirementsEqual } from '../src/api/resize-quantities';

describe('resourceListsEqual', () => {
  it('compares quantities by value, whatever their spelling', () => {
    expect(resourceListsEqual({ cpu: '1', memory: '1Gi' }, { memory: '1073741824', cpu: '1000m' })).toBe(
      true,
    );
    expect(resourceListsEqual({ cpu: '1' }, { cpu: '1001m' })).toBe(false);
  });

  it('takes a name on one side only as a difference, from either side', () => {
    expect(resourceListsEqual({ cpu: '1' }, { cpu: '1', memory: '1Gi' })).toBe(false);
    expect(resourceListsEqual({ cpu: '1', memory: '1Gi' }, { cpu: '1' })).toBe(false);
    expect(resourceListsEqual({ cpu: '1' }, undefined)).toBe(false);
    expect(resourceListsEqual(undefined, { cpu: '1' })).toBe(false);
  });

  it('holds absent and empty lists equal', () => {
    expect(resourceListsEqual(undefined, undefined)).toBe(true);
    expect(resourceListsEqual({}, undefined)).toBe(true);
    expect(resourceListsEqual(undefined, {})).toBe(true);
  });

  it('refuses a quantity that does not parse, by its name, when the spellings differ', () => {
    expect(() => resourceListsEqual({ cpu: 'lots' }, { cpu: '1' })).toThrow(/cpu/);
    expect(resourceListsEqual({ cpu: 'lots' }, { cpu: 'lots' })).toBe(true);
  });

  it('compares requests and limits both', () => {
    const a = { requests: { cpu: '100m' }, limits: { cpu: '200m' } };
    expect(resourceRequirementsEqual(a, { requests: { cpu: '0.1' }, limits: { cpu: '0.2' } })).toBe(true);
    expect(resourceRequirementsEqual(a, { requests: { cpu: '0.1' } })).toBe(false);
    expect(resourceRequirementsEqual(undefined, {})).toBe(true);
  });
});
