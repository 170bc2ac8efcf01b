/**
 * Where one sync's time went, for its debug log line (issue #54: the one-endpoint-change
 * latency, broken down). Marks are CLOCK_MONOTONIC in ms with sub-millisecond precision
 * (`process.hrtime`), one clock for every process on the machine, so another process's stamps of
 * the same change and a system-wide trace (`perf record -k CLOCK_MONOTONIC`) line up with them.
 * Not `performance.timeOrigin + performance.now()`: timeOrigin pairs a wall-clock read with a
 * monotonic one at start, and a start preempted between the two shifts every mark (6 ms in one
 * of 60 processes started beside six busy loops). They drive nothing, which is why they bypass
 * the proxier's injectable Clock.
 */
export class SyncStages {
  private readonly marks: [string, number][] = [];
  private last: number;

  /** Starts timing at `startAt` (CLOCK_MONOTONIC ms), or now. */
  constructor(readonly startAt: number = SyncStages.now()) {
    this.last = startAt;
  }

  /** CLOCK_MONOTONIC in ms, with sub-millisecond precision. */
  static now(): number {
    return Number(process.hrtime.bigint()) / 1e6;
  }

  /** Ends the stage `name` now: it took the time since the previous mark. */
  mark(name: string): void {
    const at = SyncStages.now();
    this.marks.push([name, at - this.last]);
    this.last = at;
  }

  /** The stages' durations in ms (rounded to µs), in the order marked, and the whole span. */
  durations(): Record<string, number> {
    const out: Record<string, number> = {};
    const r = (n: number) => Math.round(n * 1000) / 1000;
    for (const [name, ms] of this.marks) out[name] = r((out[name] ?? 0) + ms);
    out.total = r(this.last - this.startAt);
    return out;
  }
}
