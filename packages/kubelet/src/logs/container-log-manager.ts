import { rename, rm, stat } from 'node:fs/promises';
import { ContainerState } from '@nodeagent/cri-client/types';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { unrefTimer } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';
import { LogCompressor } from './log-compressor';
import { LogGrowthWatch } from './log-growth-watch';
import type { LogRotatePolicy } from './log-rotate-policy';
import { removeContainerLogs } from './remove-container-logs';
import {
  compareRotatedLogs,
  compressSuffix,
  filterUnusedLogs,
  rotatedLogName,
  rotatedSiblings,
} from './rotated-log-files';

/** How recently a container must have been seen running for a rotation to skip asking again. */
const runningFreshMs = 1000;
/** How far past maxSize a fast writer's rotated files may be and all still count as in budget. */
const rotatedSlack = 0.1;

/** The CRI calls log rotation makes (a CriClient satisfies it). */
export interface LogRotationRuntime {
  /** CRI ListContainers: every container, to find the running ones whose logs are watched. */
  listContainers(request: object): Promise<{ containers: { id: string; state: ContainerState }[] }>;
  /** CRI ContainerStatus: the container's log path and whether it still runs. */
  containerStatus(request: {
    containerId: string;
    verbose: boolean;
  }): Promise<{ status?: { logPath: string; state?: ContainerState } | null }>;
  /** CRI ReopenContainerLog: the runtime starts a fresh log file after the old one was renamed. */
  reopenContainerLog(request: { containerId: string }): Promise<unknown>;
}

/** What {@link ContainerLogManager} rotates through and by which limits. */
export interface ContainerLogManagerOptions {
  /** The CRI calls rotation makes. */
  runtime: LogRotationRuntime;
  /** When to rotate and how many files to keep ({@link logRotatePolicy} builds it from containerLogMaxSize and containerLogMaxFiles). */
  policy: LogRotatePolicy;
  /** containerLogMaxWorkers: containers rotated concurrently. */
  maxWorkers: number;
  /** containerLogMonitorInterval in ms. */
  monitorIntervalMs: number;
  /** Where rotation and compression failures are reported (rotation goes on with the next container). */
  logger: KubeletLogger;
  /** Names rotated files (`<log>.<timestamp>`). */
  clock?: Clock;
  /** How often new containers are looked for between full passes (default 1 s, never above the interval). */
  discoveryIntervalMs?: number;
  /** Waits between passes; tests drive the loop through it. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Upstream's container log manager (pkg/kubelet/logs), rotating on size as it happens. Each
 * running container's live log is watched (LogGrowthWatch: a stat poll paced by the log's growth
 * rate, inotify while it is idle) and rotated as soon as it reaches maxSize, as often as needed:
 * leftovers of an interrupted rotation removed, rotated files beyond maxFiles-2 removed oldest
 * first, the current file renamed to `<log>.<timestamp>` and the runtime asked to reopen a fresh
 * one (renamed back if it cannot). Older rotated files are gzipped in the background
 * (LogCompressor), never inside a rotation. containerLogMonitorInterval stays the longest any log
 * goes unchecked (a full upstream pass runs at that period) and containerLogMaxWorkers the most
 * rotations under way at once. A container that is not running is never asked to reopen its log.
 * Unlike upstream's pass, which asks ContainerStatus for each running container's log path every
 * time, the pass reuses the path of a container it already watches.
 */
export class ContainerLogManager {
  private readonly options: ContainerLogManagerOptions;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly compressor: LogCompressor;
  private readonly watches = new Map<string, { path: string; watch: LogGrowthWatch }>();
  /** Containers with a rotation under way (a watch and a pass never rotate one twice at once). */
  private readonly rotating = new Set<string>();
  /** When each container's log was last rotated, to tell a writer faster than compression pays for. */
  private readonly lastRotatedAt = new Map<string, number>();
  /** When each container was last seen running (ListContainers, ContainerStatus). */
  private readonly seenRunningAt = new Map<string, number>();
  /**
   * How long each container's recent rotations took from the watch's look to the rename (ms, a
   * moving average): its watch rotates that much ahead of maxSize, so the rename lands near it.
   */
  private readonly renameLeadMs = new Map<string, number>();
  private readonly slots: (() => void)[] = [];
  private freeSlots: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private loop: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** Ends of the waits under way in reachesMaxSize, called by stop(). */
  private readonly pauses = new Set<() => void>();

  constructor(options: ContainerLogManagerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.sleep =
      options.sleep ??
      ((ms) => new Promise((resolve) => unrefTimer(this.clock.setTimeout(() => resolve(), ms))));
    this.freeSlots = Math.max(1, options.maxWorkers);
    this.compressor = new LogCompressor((file, error) =>
      options.logger.error({ err: String(error), path: file }, 'Failed to compress log'),
    );
  }

  /** Starts the monitor loop (nothing when maxSize is negative: rotation disabled, as upstream's stub). */
  start(): void {
    if (this.loop || this.options.policy.maxSize < 0) return;
    const { logger, maxWorkers, monitorIntervalMs } = this.options;
    logger.info(
      { workers: maxWorkers, monitorPeriod: `${monitorIntervalMs / 1000}s` },
      'Initializing container log rotate workers',
    );
    const discoveryMs = Math.min(monitorIntervalMs, this.options.discoveryIntervalMs ?? 1000);
    this.loop = (async () => {
      let lastFullPass = Number.NEGATIVE_INFINITY;
      while (!this.stopped) {
        // The upstream pass every monitor interval; in between, only new containers are looked for.
        const full = this.clock.now() - lastFullPass >= monitorIntervalMs;
        if (full) lastFullPass = this.clock.now();
        await (full ? this.pass() : this.discover()).catch((error) =>
          logger.error({ err: String(error) }, 'Failed to rotate container logs'),
        );
        if (this.stopped) break;
        await Promise.race([
          this.sleep(discoveryMs),
          new Promise<void>((resolve) => {
            this.wake = resolve;
          }),
        ]);
      }
    })();
  }

  /** Stops watching and rotating, then waits for rotations and compressions under way to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    for (const done of [...this.pauses]) done();
    await this.loop;
    for (const { watch } of this.watches.values()) watch.stop();
    this.watches.clear();
    // A rotation a watch started finishes (it queues compressions); then no rotation comes any
    // more, and the compressions already queued finish (a few files at most).
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.compressor.idle();
  }

  /** Keeps `work` (a watch's rotation) for stop() to wait for. */
  private tracked<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  /**
   * One upstream pass, then the compression it started: every running container's log checked
   * and, if due, rotated, with at most maxWorkers containers at a time. One container's failure
   * is logged and does not stop the others.
   */
  async rotateLogs(): Promise<void> {
    await this.pass();
    await this.compressor.idle();
  }

  /**
   * Removes every log file of a container (current, rotated, compressed), as upstream Clean.
   * criPodRuntime's removeContainer does this for every container it removes.
   */
  clean(containerId: string): Promise<void> {
    this.unwatch(containerId);
    return removeContainerLogs(this.options.runtime, containerId);
  }

  /**
   * The runtime started `containerId`: its log is watched now rather than at the next discovery
   * (up to a second later, in which a fast writer logs 100 MiB). For whoever starts containers
   * (the CRI client's StartContainer); a container that is not running is left alone.
   */
  async containerStarted(containerId: string): Promise<void> {
    if (this.stopped || !this.loop || this.watches.has(containerId)) return;
    const { running, logPath } = await this.runningStatus(containerId);
    if (running && logPath) this.watch(containerId, logPath);
  }

  /** Running containers; watches of the others stopped (a container that exited writes no more). */
  private async running(): Promise<string[]> {
    const { containers } = await this.options.runtime.listContainers({});
    const running = containers.filter((c) => c.state === ContainerState.CONTAINER_RUNNING).map((c) => c.id);
    const now = this.clock.now();
    for (const id of running) this.seenRunningAt.set(id, now);
    const live = new Set(running);
    for (const id of this.watches.keys()) if (!live.has(id)) this.unwatch(id);
    return running;
  }

  /** New running containers get a watch; nothing else is asked of the runtime. */
  private async discover(): Promise<void> {
    for (const id of await this.running()) {
      if (this.watches.has(id) || this.stopped) continue;
      const log = await this.logPath(id, 0);
      if (log) this.watch(id, log);
    }
  }

  private async pass(): Promise<void> {
    const queue = await this.running();
    const worker = async (id: number) => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift())
        await this.processContainer(next, id);
    };
    const workers = Math.max(1, Math.min(this.options.maxWorkers, queue.length));
    await Promise.all(Array.from({ length: workers }, (_, i) => worker(i + 1)));
  }

  private watch(containerId: string, log: string): void {
    if (this.stopped || this.options.policy.maxSize < 0 || !this.loop) return;
    const existing = this.watches.get(containerId);
    if (existing?.path === log) return;
    existing?.watch.stop();
    const watch = new LogGrowthWatch({
      path: log,
      maxSize: this.options.policy.maxSize,
      monitorIntervalMs: this.options.monitorIntervalMs,
      clock: this.clock,
      leadMs: () => this.renameLeadMs.get(containerId) ?? 0,
      onDue: (size) => this.tracked(this.onDue(containerId, log, size)),
    });
    this.watches.set(containerId, { path: log, watch });
    watch.start();
  }

  private unwatch(containerId: string): void {
    this.watches.get(containerId)?.watch.stop();
    this.watches.delete(containerId);
    this.lastRotatedAt.delete(containerId);
    this.seenRunningAt.delete(containerId);
    this.renameLeadMs.delete(containerId);
  }

  /** A watch saw the log reach maxSize, or go missing: rotate or reopen, if the container still runs. */
  private async onDue(containerId: string, log: string, size: number | undefined): Promise<boolean> {
    if (this.stopped) return false;
    if (this.rotating.has(containerId)) return true;
    const dueAt = this.clock.now();
    return this.withSlot(async () => {
      const { runtime, logger } = this.options;
      // Exited (or removed) since it was last seen running: it writes no more and is not asked
      // to reopen. Seen running within the last second (the discovery's ListContainers), no
      // ContainerStatus round trip delays the rotation while the log keeps growing.
      const confirmed = this.seenRunningAt.get(containerId) ?? Number.NEGATIVE_INFINITY;
      if (this.clock.now() - confirmed > runningFreshMs && !(await this.stillRunning(containerId))) {
        this.unwatch(containerId);
        return false;
      }
      if (size === undefined) {
        try {
          await runtime.reopenContainerLog({ containerId });
        } catch (error) {
          logger.error(
            { err: String(error), containerID: containerId, path: log },
            "Container log doesn't exist, reopen container log failed",
          );
          return false;
        }
        // A runtime that answers the reopen without creating the file (one that writes no logs)
        // is asked again only after a monitor interval, as upstream's pass does: handled, the
        // watch would look again within ms and reopen 200 times a second per container.
        if ((await fileSize(log)) === undefined) {
          logger.error({ containerID: containerId, path: log }, 'Failed to stat container log after reopen');
          return false;
        }
        return true;
      }
      // A pass may have rotated this log while the watch waited for the slot: the log is then a
      // fresh one, smaller than the watch saw. Handled, so the watch looks again soon; rotating
      // would wait for the fresh log to fill (up to a monitor interval), the watch blind meanwhile.
      const current = await fileSize(log);
      if (current !== undefined && current < size) return true;
      return this.rotateReported(containerId, log, size, 0, dueAt);
    });
  }

  private async logPath(containerId: string, worker: number): Promise<string | undefined> {
    const { runtime, logger } = this.options;
    try {
      const { status } = await runtime.containerStatus({ containerId, verbose: false });
      if (!status) {
        logger.error({ worker, containerID: containerId }, 'Container status is nil');
        return undefined;
      }
      return status.logPath || undefined;
    } catch (error) {
      logger.error(
        { err: String(error), worker, containerID: containerId },
        'Failed to get container status',
      );
      return undefined;
    }
  }

  private async processContainer(containerId: string, worker: number): Promise<void> {
    const { runtime, logger, policy } = this.options;
    // A container's log path is fixed when it is created, and a watched container's came from its
    // ContainerStatus: the pass asks the runtime only about containers it does not watch yet.
    // Upstream asks about every running container at every pass, 11 calls a second at 110 pods.
    const log = this.watches.get(containerId)?.path ?? (await this.logPath(containerId, worker));
    if (!log) return;
    this.watch(containerId, log);
    let size = await fileSize(log);
    if (size === undefined) {
      // The log is gone (removed, or a rotation whose reopen never happened): ask for a new one.
      try {
        await runtime.reopenContainerLog({ containerId });
      } catch (error) {
        logger.error(
          { err: String(error), worker, containerID: containerId, path: log },
          "Container log doesn't exist, reopen container log failed",
        );
        return;
      }
      size = await fileSize(log);
      if (size === undefined) {
        logger.error(
          { worker, containerID: containerId, path: log },
          'Failed to stat container log after reopen',
        );
        return;
      }
    }
    if (size < policy.maxSize || this.rotating.has(containerId)) return;
    await this.withSlot(async () => {
      // The watch may have rotated this log while the pass waited for the slot: the log is then
      // a fresh one, and renaming it would keep an empty file as the newest rotated one.
      const current = await fileSize(log);
      if (current === undefined || current < policy.maxSize) return false;
      return this.rotateReported(containerId, log, current, worker);
    });
  }

  /** Rotates, logging a failure as upstream; true when the log was rotated. */
  private async rotateReported(
    containerId: string,
    log: string,
    size: number,
    worker: number,
    dueAt?: number,
  ): Promise<boolean> {
    if (this.rotating.has(containerId)) return true;
    this.rotating.add(containerId);
    try {
      await this.rotateLog(containerId, log, dueAt);
      return true;
    } catch (error) {
      // It exited meanwhile: the reopen was refused for that, which is no error.
      if (!(await this.stillRunning(containerId))) {
        this.unwatch(containerId);
        return false;
      }
      this.options.logger.error(
        {
          err: String(error),
          worker,
          containerID: containerId,
          path: log,
          currentSize: size,
          maxSize: this.options.policy.maxSize,
        },
        'Failed to rotate log for container',
      );
      return false;
    } finally {
      this.rotating.delete(containerId);
    }
  }

  private async stillRunning(containerId: string): Promise<boolean> {
    return (await this.runningStatus(containerId)).running;
  }

  /**
   * One ContainerStatus: whether the container still runs (recorded as seen running if so) and
   * its log path. Not running when the runtime no longer knows it (removed at once).
   */
  private async runningStatus(containerId: string): Promise<{ running: boolean; logPath?: string }> {
    try {
      const { status } = await this.options.runtime.containerStatus({ containerId, verbose: false });
      const running = status?.state === undefined || status.state === ContainerState.CONTAINER_RUNNING;
      if (running) this.seenRunningAt.set(containerId, this.clock.now());
      return { running, logPath: status?.logPath || undefined };
    } catch {
      return { running: false };
    }
  }

  /** At most maxWorkers rotations at once (upstream's worker count). */
  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.freeSlots > 0) this.freeSlots--;
    else await new Promise<void>((resolve) => this.slots.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.slots.shift();
      if (next) next();
      else this.freeSlots++;
    }
  }

  private async rotateLog(containerId: string, log: string, dueAt?: number): Promise<void> {
    const siblings = await rotatedSiblings(log);
    const now = this.clock.now();
    // Compression pays off for files that stay a while. A log rotating faster than the monitor
    // interval turns its files over before upstream would even have looked: they are removed
    // uncompressed when they fall beyond maxFiles (or the byte budget), and the kubelet spends
    // no CPU gzipping them.
    const previous = this.lastRotatedAt.get(containerId);
    const fast = previous !== undefined && now - previous < this.options.monitorIntervalMs;
    // Leftovers of an interrupted compression; not the files the compressor is working on now.
    const { inUse, unused } = filterUnusedLogs(siblings);
    for (const file of unused) if (!this.compressor.owns(file)) await rm(file, { force: true });
    // Room for maxFiles-2 older rotated files beside the current and the newest rotated one,
    // removed oldest first so a reader of a newer one is not cut off — compressed or not: when
    // compression falls behind, uncompressed files go. For a fast writer also those beyond the
    // byte budget. All removed before the rename, so the directory never holds more than
    // maxFiles files, nor (fast) rotated files beyond the budget beside the growing current one.
    const rotated = inUse.sort(compareRotatedLogs);
    const keep = Math.max(0, this.options.policy.maxFiles - 2);
    const excess = rotated.splice(0, Math.max(0, rotated.length - keep));
    if (fast) excess.push(...(await this.beyondByteBudget(log, rotated)));
    await this.remove(excess);
    if (dueAt !== undefined) {
      // Ready to rename: how long the look-to-rename steps took, the watch's lead next time.
      const lead = this.clock.now() - dueAt;
      const previous = this.renameLeadMs.get(containerId);
      this.renameLeadMs.set(containerId, previous === undefined ? lead : (previous + lead) / 2);
      if (!(await this.reachesMaxSize(log, lead))) return;
    }
    const rotatedNow = rotatedLogName(log, now, siblings);
    await this.rotateLatestLog(containerId, log, rotatedNow);
    this.lastRotatedAt.set(containerId, now);
    if (!fast) this.compressor.enqueue(rotated.filter((file) => !file.endsWith(compressSuffix)));
  }

  /**
   * A watch looks ahead of maxSize by the lead (the steps before the rename done meanwhile): the
   * rename still waits for the log to reach maxSize, as upstream rotates only a full file, looking
   * every millisecond for a few leads. False when it does not get there by then (the writer
   * slowed down): no rotation, the watch looks again.
   */
  private async reachesMaxSize(log: string, leadMs: number): Promise<boolean> {
    const { maxSize } = this.options.policy;
    const deadline = this.clock.now() + Math.min(this.options.monitorIntervalMs, 4 * leadMs + 10);
    for (;;) {
      const size = await fileSize(log);
      if (size !== undefined && size >= maxSize) return true;
      // Gone (the watch asks for a reopen instead), or not full in time.
      if (size === undefined || this.clock.now() >= deadline || this.stopped) return false;
      await this.pause(1);
    }
  }

  /** Waits `ms` on the clock, or until stop(): a stopping manager does not wait for a log to fill. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.clock.clearTimeout(timer);
        this.pauses.delete(done);
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      unrefTimer(timer);
      this.pauses.add(done);
    });
  }

  private async remove(files: readonly string[]): Promise<void> {
    for (const file of files) {
      this.compressor.cancel(file);
      await rm(file, { force: true });
    }
  }

  /**
   * The older rotated files (oldest first in `older`, which loses them) that do not fit beside
   * the current log, about to become the newest rotated one, in the rotated files' share of the
   * directory's limit (maxSize × maxFiles): all of it but the current file's maxSize, plus
   * `rotatedSlack` for what a file grows between its look and the reopen. For a fast writer's
   * uncompressed files: rotated past maxSize (the writer outran the looks, on a loaded node),
   * they would otherwise keep the directory far above the limit; upstream counts files only.
   * Files of about maxSize all stay, as by count.
   */
  private async beyondByteBudget(current: string, older: string[]): Promise<string[]> {
    const { maxSize, maxFiles } = this.options.policy;
    const budget = maxSize * (maxFiles - 1) * (1 + rotatedSlack);
    const sizeOf = async (file: string) => (await stat(file).catch(() => undefined))?.size ?? 0;
    let used = await sizeOf(current);
    let kept = older.length;
    for (let i = older.length - 1; i >= 0; i--) {
      used += await sizeOf(older[i]!);
      if (used > budget) break;
      kept = i;
    }
    return older.splice(0, kept);
  }

  /** Renames the current log without compressing it, so the runtime and readers can finish with it. */
  private async rotateLatestLog(containerId: string, log: string, rotated: string): Promise<void> {
    await rename(log, rotated);
    try {
      await this.options.runtime.reopenContainerLog({ containerId });
    } catch (error) {
      // Back in place, so the next pass can try again.
      await rename(rotated, log).catch((renameError) =>
        this.options.logger.error(
          { err: String(renameError), rotatedLog: rotated, newLog: log, containerID: containerId },
          'Failed to rename rotated log',
        ),
      );
      throw new Error(`failed to reopen container log "${containerId}": ${(error as Error).message}`);
    }
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
