import type { Clock } from '@nodeagent/primitives';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock the test moves by hand while real I/O (the in-process API server) keeps running:
 * `advance` fires due timers one at a time and waits for the woken loop to park again.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Waits (in real time) until `parked` loops are sleeping on this clock. */
  async settle(parked: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.timers.length < parked) {
      if (Date.now() > deadline) throw new Error(`only ${this.timers.length}/${parked} timers parked`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Moves time forward by ms, firing each due timer and letting its loop run to its next sleep. */
  async advance(ms: number, parked: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await this.settle(parked);
    }
    this.t = target;
  }
}
