import { describe, expect, it } from 'vitest';
import { computeCapacity, DEFAULT_EVICTION_HARD } from '../src/index';

const machine = { numCores: 4, memoryCapacityBytes: 16 * 2 ** 30, ephemeralStorageBytes: 100 * 2 ** 30 };

describe('computeCapacity', () => {
  it('takes a percentage threshold through float32 as upstream (kubeadm node: 264212084Ki disk, nodefs 10%)', () => {
    const { allocatable } = computeCapacity({
      machine: { ...machine, ephemeralStorageBytes: 264212084 * 1024 },
      maxPods: 110,
      podsPerCore: 0,
      kubeReserved: {},
      systemReserved: {},
      evictionHard: { 'nodefs.available': '10%' },
    });
    // What upstream v1.36.3's kubelet reported on that node (issue #51); an exact tenth gives 243497856614.
    expect(allocatable['ephemeral-storage']).toBe('243497856212');
  });

  it('reports the machine as capacity and subtracts reservations and hard eviction from allocatable', () => {
    const { capacity, allocatable } = computeCapacity({
      machine,
      maxPods: 110,
      podsPerCore: 0,
      kubeReserved: { cpu: '100m', memory: '512Mi', 'ephemeral-storage': '1Gi' },
      systemReserved: { cpu: '200m', memory: '512Mi' },
      evictionHard: { ...DEFAULT_EVICTION_HARD },
    });
    expect(capacity).toEqual({ cpu: '4', memory: '16Gi', 'ephemeral-storage': '100Gi', pods: '110' });
    expect(allocatable.cpu).toBe('3700m');
    // 16Gi - 1Gi reserved - 100Mi memory.available
    expect(allocatable.memory).toBe(`${16 * 1024 - 1024 - 100}Mi`);
    // 100Gi - 1Gi - 10% of 100Gi, the 10% a float32 as upstream holds it (0.10000000149…):
    // 107374182400 - 1073741824 - 10737418400, not 89Gi.
    expect(allocatable['ephemeral-storage']).toBe('95563022176');
    expect(allocatable.pods).toBe('110');
  });

  it('leaves ephemeral-storage out of capacity and allocatable with localStorageCapacityIsolation off, as upstream', () => {
    const inputs = {
      machine,
      maxPods: 110,
      podsPerCore: 0,
      kubeReserved: { cpu: '100m', 'ephemeral-storage': '1Gi' },
      systemReserved: {},
      evictionHard: { ...DEFAULT_EVICTION_HARD },
    };
    const off = computeCapacity({ ...inputs, localStorageCapacityIsolation: false });
    expect(off.capacity).toEqual({ cpu: '4', memory: '16Gi', pods: '110' });
    expect(Object.keys(off.allocatable)).toEqual(['cpu', 'memory', 'pods']);
    expect(off.allocatable.cpu).toBe('3900m');
    // Upstream's default (true) and an explicit true report it.
    for (const on of [
      computeCapacity(inputs),
      computeCapacity({ ...inputs, localStorageCapacityIsolation: true }),
    ]) {
      expect(on.capacity['ephemeral-storage']).toBe('100Gi');
      expect(on.allocatable['ephemeral-storage']).toBe('95563022176');
    }
  });

  it('caps pods by podsPerCore and never goes below zero', () => {
    const { capacity, allocatable } = computeCapacity({
      machine,
      maxPods: 110,
      podsPerCore: 10,
      kubeReserved: { cpu: '8', memory: '64Gi' },
      systemReserved: {},
      evictionHard: {},
    });
    expect(capacity.pods).toBe('40');
    expect(allocatable.cpu).toBe('0');
    expect(allocatable.memory).toBe('0');
  });

  it('reports huge pages as their own resources and takes them out of allocatable memory', () => {
    const { capacity, allocatable } = computeCapacity({
      machine: {
        ...machine,
        hugePages: [
          { pageSizeBytes: 2 * 2 ** 20, count: 512 },
          { pageSizeBytes: 2 ** 30, count: 0 },
        ],
      },
      maxPods: 110,
      podsPerCore: 0,
      kubeReserved: {},
      systemReserved: {},
      evictionHard: {},
    });
    expect(capacity['hugepages-2Mi']).toBe('1Gi');
    expect(capacity['hugepages-1Gi']).toBe('0');
    expect(capacity.memory).toBe('16Gi');
    expect(allocatable.memory).toBe('15Gi');
    expect(allocatable['hugepages-2Mi']).toBe('1Gi');
  });
});
