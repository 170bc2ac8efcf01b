import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { glibcTrimFreeHeap, releaseFreeHeapPeriodically } from '../src/free-heap-release';

const MiB = 1048576;

// In a process of its own (RssAnon is the whole process's, and test files share theirs): 48 MiB
// of 48 KiB buffers (glibc's heap, under its mmap threshold), each followed by a 1 KiB one that
// stays (a typed array of 64 bytes or less would live in V8's heap, not glibc's), so every freed
// buffer is a free chunk below a live one, out of a top trim's reach; then the release.
const CHILD = `
const { readFileSync } = require('node:fs');
const rssAnon = () => Number(/^RssAnon:\\s+(\\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
(async () => {
  const { glibcTrimFreeHeap } = await import(process.argv[1]);
  const trim = await glibcTrimFreeHeap(() => import('koffi'));
  const before = rssAnon();
  let big = [];
  const pins = [];
  for (let i = 0; i < 1024; i++) {
    big.push(Buffer.alloc(48 * 1024, 1));
    pins.push(Buffer.allocUnsafeSlow(1024).fill(2));
  }
  big = [];
  gc();
  gc();
  const freed = rssAnon();
  const released = trim ? trim() : undefined;
  const trimmed = rssAnon();
  process.stdout.write(JSON.stringify({ before, freed, trimmed, released, pinsKept: pins.every((p) => p[1023] === 2) }));
})();
`;

describe('free heap release', () => {
  afterEach(() => vi.useRealTimers());

  it("hands back the pages of glibc's free chunks below live ones, which freeing alone leaves resident", () => {
    const child = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        '-e',
        CHILD,
        join(import.meta.dirname, '../src/free-heap-release.ts'),
      ],
      { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 },
    );
    expect(child.stderr).toBe('');
    const r = JSON.parse(child.stdout) as Record<string, number | boolean>;
    expect(r.released).toBe(true);
    expect(((r.freed as number) - (r.before as number)) / MiB).toBeGreaterThan(32);
    expect(((r.freed as number) - (r.trimmed as number)) / MiB).toBeGreaterThan(24);
    expect(r.pinsKept).toBe(true);
  });

  it('is undefined where koffi does not load', async () => {
    const missing = Object.assign(new Error("Cannot find package 'koffi'"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(glibcTrimFreeHeap(() => Promise.reject(missing))).resolves.toBeUndefined();
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
