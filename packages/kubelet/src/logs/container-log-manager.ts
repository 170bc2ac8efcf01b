import { rename, rm, stat } from 'node:fs/promises';
import { ContainerState } from '@nodeagent/cri-client/types';
import { type Clock, systemClock } from '@nodeagent/primitives';
import type { KubeletLogger } from '../kubelet';
import type { LogRotatePolicy } from './log-rotate-policy';
import { removeContainerLogs } from './remove-container-logs';
import {
  compressLog,
  compressSuffix,
  filterUnusedLogs,
  rotatedSiblings,
  rotationTimestamp,
} from './rotated-log-files';

/** The CRI calls log rotation makes (a CriClient satisfies it). */
export interface LogRotationRuntime {
  listContainers(request: object): Promise<{ containers: { id: string; state: ContainerState }[] }>;
  containerStatus(request: {
    containerId: string;
    verbose: boolean;
  }): Promise<{ status?: { logPath: string } | null }>;
  reopenContainerLog(request: { containerId: string }): Promise<unknown>;
}

export interface ContainerLogManagerOptions {
  runtime: LogRotationRuntime;
  policy: LogRotatePolicy;
  /** containerLogMaxWorkers: containers rotated concurrently. */
  maxWorkers: number;
  /** containerLogMonitorInterval in ms. */
  monitorIntervalMs: number;
  logger: KubeletLogger;
  /** Names rotated files (`<log>.<timestamp>`). */
  clock?: Clock;
  /** Waits between passes; tests drive the loop through it. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Upstream's container log manager (pkg/kubelet/logs): every monitor interval, each running
 * container whose log reached maxSize gets its log rotated through CRI ReopenContainerLog —
 * leftovers of an interrupted rotation removed, rotated files beyond maxFiles-2 removed oldest
 * first, the remaining uncompressed ones gzipped, the current file renamed to
 * `<log>.<timestamp>` and the runtime asked to reopen a fresh one (renamed back if it cannot).
 */
export class ContainerLogManager {
  private readonly options: ContainerLogManagerOptions;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(options: ContainerLogManagerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref?.()));
  }

  /** Starts the monitor loop (nothing when maxSize is negative: rotation disabled, as upstream's stub). */
  start(): void {
    if (this.loop || this.options.policy.maxSize < 0) return;
    const { logger, maxWorkers, monitorIntervalMs } = this.options;
    logger.info(
      { workers: maxWorkers, monitorPeriod: `${monitorIntervalMs / 1000}s` },
      'Initializing container log rotate workers',
    );
    this.loop = (async () => {
      while (!this.stopped) {
        await this.rotateLogs().catch((error) =>
          logger.error({ err: String(error) }, 'Failed to rotate container logs'),
        );
        if (this.stopped) break;
        await Promise.race([
          this.sleep(monitorIntervalMs),
          new Promise<void>((resolve) => {
            this.wake = resolve;
          }),
        ]);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /**
   * One pass: every running container's log checked and, if due, rotated, with at most
   * maxWorkers containers at a time. One container's failure is logged and does not stop the others.
   */
  async rotateLogs(): Promise<void> {
    const { containers } = await this.options.runtime.listContainers({});
    // Only running containers write; a stopped one's log is never rotated.
    const queue = containers.filter((c) => c.state === ContainerState.CONTAINER_RUNNING).map((c) => c.id);
    const worker = async (id: number) => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift())
        await this.processContainer(next, id);
    };
    const workers = Math.max(1, Math.min(this.options.maxWorkers, queue.length));
    await Promise.all(Array.from({ length: workers }, (_, i) => worker(i + 1)));
  }

  /**
   * Removes every log file of a container (current, rotated, compressed), as upstream Clean.
   * criPodRuntime's removeContainer does this for every container it removes.
   */
  clean(containerId: string): Promise<void> {
    return removeContainerLogs(this.options.runtime, containerId);
  }

  private async processContainer(containerId: string, worker: number): Promise<void> {
    const { runtime, logger, policy } = this.options;
    let log: string;
    try {
      const { status } = await runtime.containerStatus({ containerId, verbose: false });
      if (!status) {
        logger.error({ worker, containerID: containerId }, 'Container status is nil');
        return;
      }
      log = status.logPath;
    } catch (error) {
      logger.error(
        { err: String(error), worker, containerID: containerId },
        'Failed to get container status',
      );
      return;
    }
    if (!log) return;
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
    if (size < policy.maxSize) return;
    try {
      await this.rotateLog(containerId, log);
    } catch (error) {
      logger.error(
        {
          err: String(error),
          worker,
          containerID: containerId,
          path: log,
          currentSize: size,
          maxSize: policy.maxSize,
        },
        'Failed to rotate log for container',
      );
    }
  }

  private async rotateLog(containerId: string, log: string): Promise<void> {
    const { inUse, unused } = filterUnusedLogs(await rotatedSiblings(log));
    for (const file of unused) await rm(file, { force: true });
    // The runtime writes a new file and the current one becomes rotated: room for maxFiles-2
    // older rotated files, removed oldest first so a reader of a newer one is not cut off.
    const rotated = inUse.sort();
    const keep = Math.max(0, this.options.policy.maxFiles - 2);
    const excess = rotated.splice(0, Math.max(0, rotated.length - keep));
    for (const file of excess) await rm(file, { force: true });
    for (const file of rotated) if (!file.endsWith(compressSuffix)) await compressLog(file);
    await this.rotateLatestLog(containerId, log);
  }

  /** Renames the current log without compressing it, so the runtime and readers can finish with it. */
  private async rotateLatestLog(containerId: string, log: string): Promise<void> {
    const rotated = `${log}.${rotationTimestamp(this.clock.now())}`;
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
