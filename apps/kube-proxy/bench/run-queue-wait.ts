import { readFileSync } from 'node:fs';

// How long a thread has waited for a CPU while runnable (the scheduler's run_delay, the second
// field of /proc/<pid>/task/<tid>/schedstat, in ns; CONFIG_SCHED_INFO). Read around one endpoint
// change, it tells a slow change that waited for a core (the 2-core machine's other work) from
// one that ran slowly (issue #54's p99).

/** The thread's run-queue wait so far, ms; NaN where the kernel does not report it. */
export function runQueueWaitMs(pid: number | 'self', tid: number | 'self' = pid): number {
  const path = pid === 'self' ? '/proc/thread-self/schedstat' : `/proc/${pid}/task/${tid}/schedstat`;
  try {
    const fields = readFileSync(path, 'utf8').split(' ');
    return Number(fields[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}
