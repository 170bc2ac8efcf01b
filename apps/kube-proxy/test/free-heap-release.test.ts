import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { glibcTrimFreeHeap, releaseFreeHeapPeriodically } from '../src/free-heap-release';

const MiB = 1048576;
const rssAnon = () =>
  Number(/^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;

describe('free heap release', () => {
  afterEach(() => vi.useRealTimers());

  it("hands back the pages of glibc's free chunks below live ones, which freeing alone leaves resident", async () => {
    const trim = await glibcTrimFreeHeap();
    expect(trim).toBeDefined();
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // 48 MiB of 48 KiB buffers (glibc's heap, under its mmap threshold), each followed by a small
    // one that stays (1 KiB: a typed array of 64 bytes or less lives in V8's heap, not glibc's):
    // every freed buffer is a free chunk below a live one, out of a top trim's reach.
    const before = rssAnon();
    let big: Buffer[] = [];
    const pins: Buffer[] = [];
    for (let i = 0; i < 1024; i++) {
      big.push(Buffer.alloc(48 * 1024, 1));
      pins.push(Buffer.allocUnsafeSlow(1024).fill(2));
    }
    big = [];
    gc();
    gc();
    const freed = rssAnon();
    expect((freed - before) / MiB).toBeGreaterThan(32);
    expect(trim?.()).toBe(true);
    const trimmed = rssAnon();
    expect((freed - trimmed) / MiB).toBeGreaterThan(24);
    expect(pins.every((p) => p[1023] === 2)).toBe(true);
  });

  it('trims on a timer that does not hold the process, until stopped', () => {
    vi.useFakeTimers();
    const trim = vi.fn(() => false);
    const stop = releaseFreeHeapPeriodically(trim, 60_000);
    vi.advanceTimersByTime(59_999);
    expect(trim).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(60_000);
    expect(trim).toHaveBeenCalledTimes(2);
    stop();
    vi.advanceTimersByTime(600_000);
    expect(trim).toHaveBeenCalledTimes(2);
  });
});
