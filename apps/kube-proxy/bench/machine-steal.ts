import { readFileSync } from 'node:fs';

// The time the hypervisor ran something else on this virtual machine's CPUs ("steal", the
// eighth value of /proc/stat's `cpu` line, summed over CPUs), in ms. The kernel reports it in
// USER_HZ ticks (10 ms), so a window shorter than that shows steal only as whole ticks; over a
// change's window it tells a change slowed with the daemon on a CPU (not waiting for one: see
// runQueueWaitMs) from one that ran slowly by itself (issue #54, a 2-vCPU KVM guest).

const TICK_MS = 10;

/** Steal so far over all CPUs, ms (NaN where /proc/stat has no steal column). */
export function machineStealMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const steal = Number(cpu.trim().split(/\s+/)[8]);
  return steal * TICK_MS;
}
