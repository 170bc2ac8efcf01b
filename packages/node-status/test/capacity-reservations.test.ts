import { describe, expect, it } from 'vitest';
import { InvalidQuantityError } from '../src/errors/index';
import { computeCapacity } from '../src/index';

const machine = { numCores: 4, memoryCapacityBytes: 16 * 2 ** 30, ephemeralStorageBytes: 100 * 2 ** 30 };

function withReserved(kubeReserved: Record<string, string>, evictionHard: Record<string, string> = {}) {
  return () =>
    computeCapacity({
      machine,
      maxPods: 110,
      podsPerCore: 0,
      kubeReserved,
      systemReserved: {},
      evictionHard,
    });
}

describe('computeCapacity reservations', () => {
  it('rejects junk and negative reservations and thresholds, naming the field', () => {
    for (const bad of ['', '12Qi', 'abc', '-1Gi', '1 Gi']) {
      expect(withReserved({ memory: bad })).toThrow(InvalidQuantityError);
    }
    expect(withReserved({}, { 'memory.available': '-100Mi' })).toThrow(/evictionHard\.memory\.available/);
    try {
      withReserved({ memory: '12Qi' })();
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_QUANTITY', field: 'reserved.memory', value: '12Qi' });
    }
  });

  it('reads every suffix form, cpu in millicores rounded up', () => {
    const { allocatable } = withReserved({ cpu: '1500u', memory: '1e9', 'ephemeral-storage': '1G' })();
    expect(allocatable.cpu).toBe('3998m');
    expect(allocatable.memory).toBe(`${16 * 2 ** 30 - 1e9}`);
  });
});
