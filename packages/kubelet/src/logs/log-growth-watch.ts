import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Clock } from '@nodeagent/primitives';
import { unrefTimer } from '../clock-timers';

/** Closest two looks at a growing log come (a stat is cheap; the file must not overshoot). */
export const minLookMs = 5;
/** Longest wait between looks at a log that is growing. */
export const activeLookMs = 250;
/** A log that has not grown for this long is left to inotify until it grows again. */
export const idleAfterMs = 1000;
/**
 * The second look at a log whose growth rate is not known yet (just found, or rotated before a
 * rate was measured): soon, so a fast writer's rate is known before it fills the file.
 */
export const probeLookMs = 20;
/** The most a predicted rotation runs ahead of maxSize: a rotated file keeps at least 90% of it. */
export const maxLeadFraction = 0.1;

/**
 * When to look at a growing log again: half the time it needs, at its measured rate, to reach
 * containerLogMaxSize — so the look lands before it and the next ones close in — between
 * `minLookMs` and the smaller of `activeLookMs` and containerLogMonitorInterval.
 */
export function nextLookDelay(remainingBytes: number, bytesPerMs: number, monitorIntervalMs: number): number {
  const cap = Math.max(minLookMs, Math.min(activeLookMs, monitorIntervalMs));
  if (!(bytesPerMs > 0)) return cap;
  return Math.min(cap, Math.max(minLookMs, remainingBytes / bytesPerMs / 2));
}

/**
 * The size at which a log growing at `bytesPerMs` is due: maxSize less what it grows during
 * `leadMs`, the time a rotation's steps before the rename take (measured), so they run while
 * the file fills its last bytes and the rename (which still waits for maxSize) comes as it is
 * full rather than that much past it; never below 90% of maxSize.
 */
export function dueSize(maxSize: number, bytesPerMs: number, leadMs: number): number {
  const ahead = bytesPerMs > 0 && leadMs > 0 ? bytesPerMs * leadMs : 0;
  return Math.max(maxSize * (1 - maxLeadFraction), maxSize - ahead);
}

export interface LogGrowthWatchOptions {
  path: string;
  maxSize: number;
  /** containerLogMonitorInterval: the longest the watch ever goes without a look. */
  monitorIntervalMs: number;
  clock: Clock;
  /** How long a rotation's steps from the look to the rename took recently (ms; 0 when not known). */
  leadMs?: () => number;
  /**
   * The log reached maxSize (size) or is missing (undefined). Resolves true when it was handled
   * (rotated, reopened), false to look again only after monitorIntervalMs (a failure, logged).
   */
  onDue(size: number | undefined): Promise<boolean>;
}

/**
 * Watches one live container log for growth. While it grows, a stat poll whose period follows
 * its growth rate (a fast writer is looked at every few ms as it nears maxSize, a slow one
 * rarely); once it stops growing, an inotify watch (fs.watch), which costs nothing until the
 * next write wakes it. Per-write inotify events are never used while the log is busy: at tens of
 * thousands of writes a second they would cost more than the writer.
 */
export class LogGrowthWatch {
  private timer: unknown;
  private watcher: FSWatcher | undefined;
  /** The inode the watcher is on: a log replaced by another file needs a new watch. */
  private watchedIno: number | undefined;
  private lastSize: number | undefined;
  private lastAt = 0;
  private lastGrowthAt: number;
  private bytesPerMs = 0;
  private looking = false;
  private stopped = false;

  constructor(private readonly options: LogGrowthWatchOptions) {
    this.lastGrowthAt = options.clock.now();
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.options.clock.clearTimeout(this.timer);
    this.disarm();
  }

  /** Looks now (the manager's pass saw something, or a test drives it). */
  async look(): Promise<void> {
    if (this.stopped || this.looking) return;
    this.looking = true;
    const { clock, maxSize, monitorIntervalMs } = this.options;
    try {
      const now = clock.now();
      const file = await fileStat(this.options.path);
      const size = file?.size;
      const due = dueSize(maxSize, this.bytesPerMs, this.options.leadMs?.() ?? 0);
      if (size === undefined || size >= due) {
        this.disarm();
        const handled = await this.options.onDue(size);
        // The new file starts empty: the next look measures from there, at the last known rate.
        this.lastSize = undefined;
        this.lastGrowthAt = clock.now();
        return this.schedule(handled ? minLookMs : monitorIntervalMs);
      }
      const previous = this.lastSize;
      if (previous !== undefined && size > previous && now > this.lastAt) {
        const rate = (size - previous) / (now - this.lastAt);
        this.bytesPerMs = this.bytesPerMs > 0 ? (this.bytesPerMs + rate) / 2 : rate;
      }
      if (previous === undefined || size !== previous) this.lastGrowthAt = now;
      this.lastSize = size;
      this.lastAt = now;
      if (now - this.lastGrowthAt >= idleAfterMs) {
        this.bytesPerMs = 0;
        // Still idle, on the file the watch is on (the monitor interval's look): the watch stays.
        if (this.watcher && this.watchedIno === file?.ino) return this.schedule(monitorIntervalMs);
        this.disarm();
        return this.arm(size, file?.ino);
      }
      this.disarm();
      // A log with bytes but no rate yet: at 100 MiB/s, activeLookMs would let it pass maxSize
      // by 25 MiB before the second look.
      if (previous === undefined && !(this.bytesPerMs > 0) && size > 0) return this.schedule(probeLookMs);
      this.schedule(nextLookDelay(due - size, this.bytesPerMs, monitorIntervalMs));
    } catch {
      this.disarm();
      this.schedule(monitorIntervalMs);
    } finally {
      this.looking = false;
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.options.clock.clearTimeout(this.timer);
    this.timer = this.options.clock.setTimeout(() => void this.look(), ms);
    unrefTimer(this.timer);
  }

  /** Idle: inotify wakes the watch on the next write, and a look every monitor interval regardless. */
  private async arm(size: number, ino: number | undefined): Promise<void> {
    this.schedule(this.options.monitorIntervalMs);
    try {
      this.watcher = watch(this.options.path, { persistent: false }, () => this.wake());
      this.watchedIno = ino;
      this.watcher.on('error', () => this.disarm());
    } catch {
      // No inotify (watch limit reached, file gone): looks at the active pace instead.
      return this.schedule(activeLookMs);
    }
    // A write between the last look and the watch being in place.
    if ((await fileStat(this.options.path).catch(() => undefined))?.size !== size) this.wake();
  }

  private wake(): void {
    this.disarm();
    // Measure the new rate from now: a burst after a long pause would otherwise look slow.
    this.lastAt = this.options.clock.now();
    this.lastGrowthAt = this.lastAt;
    this.schedule(0);
  }

  private disarm(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.watchedIno = undefined;
  }
}

async function fileStat(path: string): Promise<{ size: number; ino: number } | undefined> {
  try {
    const { size, ino } = await stat(path);
    return { size, ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
