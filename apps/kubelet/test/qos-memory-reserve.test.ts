import { describe, expect, it } from 'vitest';
import { qosMemoryReserve } from '../src/qos-memory-reserve';

const gib = 1024 ** 3;
const machine = async () => ({ numCores: 4, memoryCapacityBytes: 8 * gib });
const config = (qosReserved: Record<string, string>, featureGates: Record<string, boolean>) => ({
  qosReserved,
  featureGates,
  kubeReserved: { memory: '1Gi' },
  systemReserved: { memory: '512Mi' },
});

describe('qosMemoryReserve', () => {
  it('with QOSReserved on: the percentage over capacity less kubeReserved and systemReserved', async () => {
    expect(await qosMemoryReserve(config({ memory: '25%' }, { QOSReserved: true }), machine)).toEqual({
      percent: 25,
      allocatableBytes: 8 * gib - 1.5 * gib,
    });
  });

  it('nothing with the gate off (upstream only parses the field) or no memory entry', async () => {
    expect(await qosMemoryReserve(config({ memory: '25%' }, {}), machine)).toBeUndefined();
    expect(await qosMemoryReserve(config({}, { QOSReserved: true }), machine)).toBeUndefined();
  });
});
