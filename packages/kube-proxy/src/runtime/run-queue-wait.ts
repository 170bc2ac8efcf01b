import { readFileSync } from 'node:fs';

/**
 * How long a thread has waited for a CPU while runnable, ms: the scheduler's `run_delay`, the
 * second field of `/proc/<task>/schedstat` (ns; CONFIG_SCHED_INFO). `task` is `thread-self`
 * (the calling thread, the default) or `<pid>/task/<tid>`. NaN where the kernel does not report
 * it. Read at two moments, it tells a slow step that waited for a core (the machine's other
 * work) from one that ran slowly: the nftables proxier adds it to its debug sync line, and the
 * scale bench reads it around each endpoint change (issue #54).
 */
export function runQueueWaitMs(task = 'thread-self'): number {
  try {
    const fields = readFileSync(`/proc/${task}/schedstat`, 'utf8').split(' ');
    return Number(fields[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}
