/**
 * Where one sync's time went, for its debug log line (issue #54: the one-endpoint-change
 * latency, broken down). Marks are wall-clock epoch ms with sub-millisecond precision
 * (`performance.timeOrigin + performance.now()`), so a trace can line them up with another
 * process's stamps of the same change; they drive nothing, which is why they bypass the
 * proxier's injectable Clock.
 */
export class SyncStages {
  private readonly marks: [string, number][] = [];
  private last: number;

  /** Starts timing at `startAt` (epoch ms), or now. */
  constructor(readonly startAt: number = SyncStages.now()) {
    this.last = startAt;
  }

  /** Epoch ms with sub-millisecond precision. */
  static now(): number {
    return performance.timeOrigin + performance.now();
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
