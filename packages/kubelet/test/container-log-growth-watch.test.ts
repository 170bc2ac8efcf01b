import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { activeLookMs, dueSize, LogGrowthWatch, probeLookMs } from '../src/logs/log-growth-watch';

/**
 * The inotify watch descriptors this process holds on `file`'s inode (/proc/self/fdinfo of its
 * inotify descriptors): a watch closed and made again has a new descriptor.
 */
async function inotifyWatchesOn(file: string): Promise<string[]> {
  const ino = (await stat(file)).ino.toString(16);
  const wds: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) !== 'anon_inode:inotify') continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    for (const m of info.matchAll(/^inotify wd:(\w+) ino:(\w+)/gm))
      if (m[2] === ino) wds.push(`${fd}:${m[1]}`);
  }
  return wds;
}

describe('LogGrowthWatch (when a live container log is due for rotation)', () => {
  let dir: string;
  let log: string;
  let clock: FakeClock;
  let due: number[];
  let watch: LogGrowthWatch | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-log-watch-${process.pid}-`));
    log = join(dir, '0.log');
    clock = new FakeClock();
    due = [];
  });
  afterEach(async () => {
    watch?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (leadMs = 0) => {
    watch = new LogGrowthWatch({
      path: log,
      maxSize: 10_000,
      monitorIntervalMs: 10_000,
      clock,
      leadMs: () => leadMs,
      // Rotated: the runtime's fresh log is empty.
      onDue: async (size) => {
        due.push(size ?? -1);
        await writeFile(log, '');
        return true;
      },
    });
    watch.start();
  };
  /** Moves the clock by `ms`, letting each look (a stat) finish and park its next timer. */
  const advance = async (ms: number) => {
    await clock.whenPending(1);
    await clock.advanceAsync(ms, () => clock.whenPending(1).catch(() => undefined));
  };

  it('looks again within probeLookMs at a log with bytes and no measured rate yet', async () => {
    await writeFile(log, 'x'.repeat(100));
    start();
    await advance(0);
    // A fast writer fills it before the second look: due then, not an active period later.
    await writeFile(log, 'x'.repeat(10_000));
    await advance(probeLookMs - 1);
    expect(due).toEqual([]);
    await advance(1);
    expect(due).toEqual([10_000]);
  });

  it('is due ahead of maxSize by what the log grows while a rotation reaches its rename', async () => {
    await writeFile(log, 'x'.repeat(100));
    start(100);
    await advance(0);
    // 2,000 bytes in 20 ms: 100 bytes/ms, so a 100 ms lead would mean 10,000 bytes ahead;
    // the lead is held to 10% of maxSize: due from 9,000 bytes.
    await writeFile(log, 'x'.repeat(2100));
    await advance(probeLookMs);
    expect(due).toEqual([]);
    await writeFile(log, 'x'.repeat(9100));
    await advance(100);
    expect(due).toEqual([9100]);
  });

  it('keeps one inotify watch on an idle log across monitor intervals, and a write still wakes it', async () => {
    await writeFile(log, 'x'.repeat(100));
    start();
    // Unchanged for idleAfterMs: the watch is armed.
    for (let t = 0; t <= 1000 + activeLookMs; t += activeLookMs) await advance(activeLookMs);
    const armed = await inotifyWatchesOn(log);
    expect(armed).toHaveLength(1);
    // Three monitor intervals' looks find it idle on the same file: the same watch stays.
    for (let i = 0; i < 3; i++) await advance(10_000);
    expect(await inotifyWatchesOn(log)).toEqual(armed);
    expect(due).toEqual([]);
    // A write wakes it through inotify, with no timer due: only the event makes the look.
    await writeFile(log, 'x'.repeat(10_000));
    await vi.waitFor(
      async () => {
        await advance(0);
        expect(due).toEqual([10_000]);
      },
      { timeout: 10_000, interval: 20 },
    );
  });

  it('puts the due size maxSize less the growth during the lead, never below 90% of maxSize', () => {
    expect(dueSize(10_000, 10, 50)).toBe(9500);
    expect(dueSize(10_000, 100, 100)).toBe(9000);
    // No rate or no lead measured: maxSize, as upstream.
    expect(dueSize(10_000, 0, 50)).toBe(10_000);
    expect(dueSize(10_000, 10, 0)).toBe(10_000);
  });
});
