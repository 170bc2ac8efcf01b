import {
  float32Fraction,
  formatBinary,
  formatCount,
  formatMilliCpu,
  InvalidQuantityError,
  milliValue,
  parseQuantity,
  percentageOf,
} from '@nodeagent/primitives';
import type { MachineInfo } from './machine-info';

/** Resource name → quantity text, as in a Node's capacity and allocatable. */
export type ResourceList = Record<string, string>;

/** What capacity and allocatable are computed from: the machine, max pods and the reservations. */
export interface CapacityInputs {
  machine: Pick<MachineInfo, 'numCores' | 'memoryCapacityBytes' | 'ephemeralStorageBytes'> &
    Partial<Pick<MachineInfo, 'hugePages'>>;
  maxPods: number;
  podsPerCore: number;
  kubeReserved: Record<string, string>;
  systemReserved: Record<string, string>;
  evictionHard: Record<string, string>;
  /**
   * KubeletConfiguration localStorageCapacityIsolation (default true). false leaves
   * ephemeral-storage out of capacity and so out of allocatable, as upstream's container manager
   * then reports no such capacity (GetCapacity) and allocatable has only capacity's names.
   */
  localStorageCapacityIsolation?: boolean;
}

/**
 * Capacity from the machine, allocatable = capacity − kubeReserved − systemReserved − hard
 * eviction threshold (memory.available for memory, nodefs.available for ephemeral-storage),
 * never below zero — the kubelet's container manager formula. ephemeral-storage is only there
 * with localStorageCapacityIsolation on.
 */
export function computeCapacity(inp: CapacityInputs): { capacity: ResourceList; allocatable: ResourceList } {
  const milliCpu = inp.machine.numCores * 1000;
  const memory = inp.machine.memoryCapacityBytes;
  const pods =
    inp.podsPerCore > 0 ? Math.min(inp.maxPods, inp.podsPerCore * inp.machine.numCores) : inp.maxPods;

  const reserved = (name: string, parse: (text: string, field: string) => number) =>
    [inp.kubeReserved, inp.systemReserved].reduce((sum, list) => {
      const v = list[name];
      return v === undefined ? sum : sum + nonNegative(parse, v, `reserved.${name}`);
    }, 0);
  const threshold = (signal: string, total: number) => {
    const v = inp.evictionHard[signal];
    if (v === undefined) return 0;
    if (v.endsWith('%')) return percentageOf(total, float32Fraction(Number(v.slice(0, -1))));
    return nonNegative(parseQuantity, v, `evictionHard.${signal}`);
  };

  // Huge pages are their own resources; memory allocatable excludes what they pin.
  const huge: ResourceList = {};
  let hugeBytes = 0;
  for (const h of inp.machine.hugePages ?? []) {
    const bytes = h.pageSizeBytes * h.count;
    huge[`hugepages-${formatBinary(h.pageSizeBytes)}`] = formatBinary(bytes);
    hugeBytes += bytes;
  }

  // Computed only when reported: a reservation of a resource capacity lacks is never looked at.
  const isolated = inp.localStorageCapacityIsolation ?? true;
  const storage = (allocatable: boolean): ResourceList => {
    if (!isolated) return {};
    const bytes = inp.machine.ephemeralStorageBytes;
    const value = allocatable
      ? bytes - reserved('ephemeral-storage', parseQuantity) - threshold('nodefs.available', bytes)
      : bytes;
    return { 'ephemeral-storage': formatBinary(value) };
  };

  return {
    capacity: {
      cpu: formatMilliCpu(milliCpu),
      memory: formatBinary(memory),
      ...storage(false),
      pods: formatCount(pods),
      ...huge,
    },
    allocatable: {
      cpu: formatMilliCpu(milliCpu - reserved('cpu', milliValue)),
      memory: formatBinary(
        memory - hugeBytes - reserved('memory', parseQuantity) - threshold('memory.available', memory),
      ),
      ...storage(true),
      pods: formatCount(pods),
      ...huge,
    },
  };
}

/** Reservations and thresholds are amounts taken away from capacity: a negative one is a mistake. */
function nonNegative(parse: (text: string, field: string) => number, text: string, field: string): number {
  const value = parse(text, field);
  if (value < 0) throw new InvalidQuantityError(field, text, 'must be a non-negative quantity');
  return value;
}
