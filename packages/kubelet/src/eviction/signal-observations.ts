import type { EvictionSignal } from '../config/eviction-thresholds';
import type { FsStats, Summary } from '../stats/summary-types';

/** What one signal measured: how much is available out of what capacity. */
export interface SignalObservation {
  available: number;
  capacity: number;
}

/** Every signal the stats summary could measure, by signal; a signal without data is absent. */
export type SignalObservations = Map<EvictionSignal, SignalObservation>;

function observeFs(
  out: SignalObservations,
  fs: FsStats | undefined,
  bytes: EvictionSignal,
  inodes: EvictionSignal,
): void {
  if (fs?.availableBytes !== undefined && fs.capacityBytes !== undefined)
    out.set(bytes, { available: fs.availableBytes, capacity: fs.capacityBytes });
  if (fs?.inodesFree !== undefined && fs.inodes !== undefined)
    out.set(inodes, { available: fs.inodesFree, capacity: fs.inodes });
}

/**
 * Upstream makeSignalObservations: the eviction signals as the stats summary shows them.
 * memory.available is capacity minus working set; the container filesystem is the image
 * filesystem unless the runtime reports a separate one; pid.available is maxpid minus tasks.
 */
export function signalObservations(summary: Summary): SignalObservations {
  const out: SignalObservations = new Map();
  const memory = summary.node.memory;
  if (memory?.availableBytes !== undefined) {
    out.set('memory.available', {
      available: memory.availableBytes,
      capacity: memory.availableBytes + (memory.workingSetBytes ?? 0),
    });
  }
  observeFs(out, summary.node.fs, 'nodefs.available', 'nodefs.inodesFree');
  const imageFs = summary.node.runtime?.imageFs;
  observeFs(out, imageFs, 'imagefs.available', 'imagefs.inodesFree');
  observeFs(
    out,
    summary.node.runtime?.containerFs ?? imageFs,
    'containerfs.available',
    'containerfs.inodesFree',
  );
  const rlimit = summary.node.rlimit;
  if (rlimit?.maxpid !== undefined && rlimit.curproc !== undefined) {
    out.set('pid.available', { available: rlimit.maxpid - rlimit.curproc, capacity: rlimit.maxpid });
  }
  return out;
}
