import type { EvictionSignal } from '../config/eviction-thresholds';

/** Node conditions the eviction manager drives. */
export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

/** Upstream signalToNodeCondition. */
export const signalToNodeCondition: Readonly<Record<EvictionSignal, PressureCondition>> = {
  'memory.available': 'MemoryPressure',
  'allocatableMemory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'containerfs.available': 'DiskPressure',
  'containerfs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

/** The resource a signal starves (upstream signalToResource): what eviction messages name. */
export type StarvedResource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';

/** The resource each eviction signal starves (upstream signalToResource), named in eviction messages. */
export const signalToResource: Readonly<Record<EvictionSignal, StarvedResource>> = {
  'memory.available': 'memory',
  'allocatableMemory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage',
  'imagefs.inodesFree': 'inodes',
  'containerfs.available': 'ephemeral-storage',
  'containerfs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

/** Signals that image and container GC can relieve before any pod has to go. */
export const nodeLevelReclaimSignals: ReadonlySet<EvictionSignal> = new Set([
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'containerfs.available',
  'containerfs.inodesFree',
]);

/** Upstream byEvictionPriority: memory signals first, the rest in configuration order. */
export function evictionPriority(signal: EvictionSignal): number {
  return signalToResource[signal] === 'memory' ? 0 : 1;
}
