/**
 * CLOCK_MONOTONIC in ms (sub-ms precision): one clock for every process on the machine, so two
 * processes' stamps subtract exactly; the daemon's sync marks are on it too (SyncStages).
 * `performance.timeOrigin + performance.now()` does not: timeOrigin pairs a wall-clock read with
 * a monotonic one at the process's start, and a start preempted between the two reads (under
 * load) shifts all its stamps; one Node process in 60 started beside six busy loops was 6 ms off,
 * and the paced floor's test once saw a transaction end 6.76 ms before it was asked for.
 */
export const monotonicNow = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * What to add to a `performance.now()` time (a PerformanceEntry's startTime) for CLOCK_MONOTONIC
 * ms: Node's performance.now() counts on that clock from this process's start, so the offset is
 * fixed and read once. A thread preempted between two clock reads would put its wait into it:
 * the monotonic read is bracketed by two performance.now() reads, the tightest of up to 100 kept.
 */
export function performanceToMonotonicMs(): number {
  let tightest = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 100 && tightest > 0.002; i++) {
    const before = performance.now();
    const monotonic = monotonicNow();
    const after = performance.now();
    if (after - before < tightest) {
      tightest = after - before;
      offset = monotonic - (before + after) / 2;
    }
  }
  return offset;
}

/**
 * What to subtract from a wall-clock time in ms (Date.now(), the daemon's whole-ms
 * `kubeproxy_sync_proxy_rules_last_timestamp_seconds`) for CLOCK_MONOTONIC ms. Read at the
 * moment Date.now() moves to its next ms, so a whole-ms stamp keeps its own precision; a read
 * preempted between the two clocks comes out low, so the highest of three edges is kept.
 */
export function wallMinusMonotonicMs(): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const start = Date.now();
    let wall = start;
    let monotonic = 0;
    while (wall === start) {
      wall = Date.now();
      monotonic = monotonicNow();
    }
    best = Math.max(best, wall - monotonic);
  }
  return best;
}
