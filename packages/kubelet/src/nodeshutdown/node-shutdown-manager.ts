import { type Clock, formatDuration, systemClock } from '@nodeagent/primitives';
import type { Pod } from '../api/pod-types';
import type { NodeEventRecorder } from '../events/event-reasons';
import type { KubeletLogger } from '../kubelet-logger';
import { killPodsByPriority, type ShutdownKillPod, type WaitForUnmount } from './kill-pods-by-priority';
import type { InhibitLock, LogindInhibitor, ShutdownWatch } from './logind-inhibitor';
import {
  groupByPriority,
  periodRequestedMs,
  type ShutdownGracePeriodByPriority,
} from './shutdown-grace-periods';
import { epochSeconds, type ShutdownMetrics } from './shutdown-metrics';
import type { ShutdownStateFile } from './shutdown-state-file';

/** Upstream's admission refusal while the node shuts down (NodeShutdownNotAdmittedReason). */
export const nodeShutdownNotAdmittedReason = 'NodeShutdown';
/** Upstream's admission refusal message while the node shuts down. */
export const nodeShutdownNotAdmittedMessage = 'Pod was rejected as the node is shutting down.';
/** ShutdownStatus's error text, which becomes the Ready condition's message. */
export const nodeShuttingDownError = 'node is shutting down';

// Upstream dbusReconnectPeriod, and the back-off waiting for logind to apply a reloaded drop-in
// (wait.Backoff{Duration: 100ms, Factor: 2, Steps: 5}: five reads, 100+200+400+800 ms apart).
const reconnectPeriodMs = 1000;
const inhibitDelaySteps = 5;
const inhibitDelayFirstWaitMs = 100;

/** What the node shutdown manager is built from; see {@link NodeShutdownManager}. */
export interface NodeShutdownManagerOptions {
  /** The priority groups, low to high (shutdownGracePeriods()); must not be empty. */
  periods: readonly ShutdownGracePeriodByPriority[];
  /** Connects to logind on the system bus (upstream systemDbus); rejects when there is no bus. */
  connect: () => Promise<LogindInhibitor>;
  /** The pods to stop when the node shuts down (the kubelet's active pods). */
  activePods: () => Pod[];
  killPod: ShutdownKillPod;
  /** Waits for a stopped group's volumes to be unmounted before the next group (default: no wait). */
  waitForUnmount?: WaitForUnmount | undefined;
  /** Asks for a node status update now, so Ready turns False with {@link nodeShuttingDownError}. */
  syncNodeStatus: () => void;
  recordNodeEvent?: NodeEventRecorder | undefined;
  /** The graceful_node_shutdown_state file and the gauges (upstream: with GracefulNodeShutdownBasedOnPodPriority). */
  stateFile?: ShutdownStateFile | undefined;
  metrics?: ShutdownMetrics | undefined;
  clock?: Clock;
  logger: KubeletLogger;
}

/** The admission answer: upstream's PodAdmitResult. */
export type ShutdownAdmitResult = { admit: true } | { admit: false; reason: string; message: string };

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Upstream nodeshutdown managerImpl (Linux): holds a logind "delay" inhibitor lock on shutdown;
 * when logind announces one (PrepareForShutdown true) it refuses new pods, makes Ready False,
 * stops the pods group by group (critical pods last) and then releases the lock so the shutdown
 * goes on. A cancelled shutdown (false) takes the lock again. Events are handled one at a time.
 */
export class NodeShutdownManager {
  private readonly clock: Clock;
  private logind: LogindInhibitor | undefined;
  private watch: ShutdownWatch | undefined;
  private lock: InhibitLock | undefined;
  private shuttingDown = false;
  private events: Promise<void> = Promise.resolve();
  private reconnectTimer: unknown;
  private stopped = false;

  constructor(private readonly options: NodeShutdownManagerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Upstream Admit: every pod is refused while the node shuts down. */
  admit(): ShutdownAdmitResult {
    if (!this.shuttingDown) return { admit: true };
    return { admit: false, reason: nodeShutdownNotAdmittedReason, message: nodeShutdownNotAdmittedMessage };
  }

  /** Upstream ShutdownStatus: the Ready condition's error while the node shuts down, else undefined. */
  shutdownStatus(): string | undefined {
    return this.shuttingDown ? nodeShuttingDownError : undefined;
  }

  /**
   * Upstream Start: connects and watches, rejecting when that first attempt fails (the kubelet
   * logs "Failed to start node shutdown manager" and runs on without it). Once watching, a lost
   * connection is retried a second later, and again after each failure.
   */
  async start(): Promise<void> {
    await this.connect();
    await this.setMetrics();
  }

  /**
   * Stops watching and retrying, closes the connection and releases a held lock. A shutdown being
   * handled is not waited for: the kubelet's exit must not wait out the grace periods (upstream's
   * exit closes the lock's descriptor just the same).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.reconnectTimer);
    this.disconnect();
    await this.lock?.release();
  }

  /** Resolves once the events received so far are handled (tests). */
  async idle(): Promise<void> {
    await this.events;
  }

  private async connect(): Promise<void> {
    const logind = await this.options.connect();
    this.logind = logind;
    try {
      await this.ensureInhibitDelay(logind);
      await this.acquireInhibitLock();
      this.watch = await this.monitor(logind);
    } catch (error) {
      this.disconnect();
      throw error;
    }
  }

  private disconnect(): void {
    this.watch?.stop();
    this.watch = undefined;
    this.logind?.close();
    this.logind = undefined;
  }

  /** logind must let the lock delay shutdown for the sum of the groups' periods; raise it when not. */
  private async ensureInhibitDelay(logind: LogindInhibitor): Promise<void> {
    const requested = periodRequestedMs(this.options.periods);
    if (requested <= (await logind.currentInhibitDelayMs())) return;
    try {
      await logind.overrideInhibitDelay(requested);
    } catch (error) {
      throw new Error(`unable to override inhibit delay by shutdown manager: ${message(error)}`);
    }
    await logind.reloadLogindConf();
    // logind applies the reload asynchronously: read the value again with a back-off.
    let current = 0;
    for (let attempt = 1; attempt <= inhibitDelaySteps; attempt++) {
      current = await logind.currentInhibitDelayMs();
      if (requested <= current) return;
      if (attempt < inhibitDelaySteps) await this.sleep(inhibitDelayFirstWaitMs * 2 ** (attempt - 1));
    }
    throw new Error(
      `node shutdown manager was timed out after ${inhibitDelaySteps} attempts waiting for logind InhibitDelayMaxSec ` +
        `to update to ${formatDuration(requested)} (ShutdownGracePeriod), current value is ${formatDuration(current)}`,
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.clock.setTimeout(resolve, ms);
    });
  }

  private async monitor(logind: LogindInhibitor): Promise<ShutdownWatch> {
    try {
      return await logind.monitorShutdown(
        (shuttingDown) => this.enqueue(shuttingDown),
        (error) => this.watchEnded(logind, error),
      );
    } catch (error) {
      try {
        await this.lock?.release();
      } catch (releaseError) {
        throw new Error(
          `failed releasing inhibitLock: ${message(releaseError)} and failed monitoring shutdown: ${message(error)}`,
        );
      }
      throw new Error(`failed to monitor shutdown: ${message(error)}`);
    }
  }

  /** Takes a new lock, then lets the previous one go (upstream acquireInhibitLock). */
  private async acquireInhibitLock(): Promise<void> {
    const logind = this.logind;
    if (!logind) throw new Error('not connected to logind');
    const lock = await logind.inhibitShutdown();
    const previous = this.lock;
    this.lock = lock;
    await previous?.release();
  }

  private enqueue(shuttingDown: boolean): void {
    // A failure is logged and the queue goes on: the next event must still be handled.
    this.events = this.events
      .then(() => this.handleEvent(shuttingDown))
      .catch((error) =>
        this.options.logger.error({ err: message(error) }, 'Shutdown manager failed handling an event'),
      );
  }

  private async handleEvent(shuttingDown: boolean): Promise<void> {
    const { logger, recordNodeEvent } = this.options;
    logger.info(
      { event: shuttingDown ? 'shutdown' : 'cancelled' },
      'Shutdown manager detected new shutdown event',
    );
    recordNodeEvent?.(
      'Normal',
      'NodeShutdown',
      shuttingDown
        ? 'Shutdown manager detected shutdown event'
        : 'Shutdown manager detected shutdown cancellation',
    );
    this.shuttingDown = shuttingDown;
    if (shuttingDown) {
      this.options.syncNodeStatus();
      await this.processShutdownEvent();
      return;
    }
    // Upstream ignores a failure here: the next cancelled shutdown or reconnect tries again.
    await this.acquireInhibitLock().catch(() => undefined);
  }

  private async processShutdownEvent(): Promise<void> {
    const { logger } = this.options;
    logger.info({}, 'Shutdown manager processing shutdown event');
    const startMs = this.clock.now();
    // Whatever fails in between, the lock is released at the end: logind must not wait in vain.
    try {
      const pods = this.options.activePods();
      await this.recordTimes({ startMs });
      await killPodsByPriority(
        groupByPriority(this.options.periods, pods),
        this.options.killPod,
        this.clock,
        logger,
        this.options.waitForUnmount,
      );
    } finally {
      await this.recordTimes({ startMs, endMs: this.clock.now() });
      await Promise.resolve(this.lock?.release()).catch((error) =>
        logger.error({ err: message(error) }, 'Failed to release the inhibit lock'),
      );
      logger.info({}, 'Shutdown manager completed processing shutdown event, node will shutdown shortly');
    }
  }

  /** The state file and gauges: the start alone first (end 0), then both. */
  private async recordTimes(times: { startMs: number; endMs?: number }): Promise<void> {
    const { stateFile, metrics, logger } = this.options;
    if (!stateFile) return;
    await stateFile
      .store(times)
      .catch((error) => logger.error({ err: message(error) }, 'Failed to store graceful shutdown state'));
    if (times.endMs === undefined) {
      metrics?.startTime.set(epochSeconds(times.startMs));
      metrics?.endTime.set(0);
    } else metrics?.endTime.set(epochSeconds(times.endMs));
  }

  /** Upstream setMetrics: the last shutdown's times from the state file, at start. */
  private async setMetrics(): Promise<void> {
    const { stateFile, metrics, logger } = this.options;
    if (!stateFile || !metrics) return;
    try {
      const times = await stateFile.load();
      if (times.startMs !== undefined) metrics.startTime.set(epochSeconds(times.startMs));
      if (times.endMs !== undefined) metrics.endTime.set(epochSeconds(times.endMs));
    } catch (error) {
      logger.error({ err: message(error) }, 'Failed to load graceful shutdown state');
    }
  }

  /** The connection is gone: connect again a second later, and after each failure. */
  private watchEnded(logind: LogindInhibitor, error: unknown): void {
    if (logind !== this.logind || this.stopped) return;
    this.options.logger.error(
      { err: message(error ?? 'connection closed') },
      'Ended to watching the node for shutdown events',
    );
    this.disconnect();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.options.logger.info({}, 'Restarting watch for node shutdown events');
      this.connect().catch((error) => {
        this.options.logger.error({ err: message(error) }, 'Unable to watch the node for shutdown events');
        this.scheduleReconnect();
      });
    }, reconnectPeriodMs);
  }
}
