import { CSI_TIMEOUT_MS } from '@nodeagent/csi-client';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { everyOn } from '../../clock-timers';
import type { KubeletLogger } from '../../kubelet-logger';
import type { CsiDrivers } from './csi-drivers';
import type { CsiNodeInfo } from './csi-node-info';

/** The CSIDriver objects as a watch keeps them: each driver's update period, and word of changes. */
export interface CsiDriverWatch {
  /** The named CSIDriver's `spec.nodeAllocatableUpdatePeriodSeconds` in ms; 0 when unset or missing. */
  nodeAllocatableUpdatePeriodMs(driver: string): number;
  /** Calls `listener` with a driver's name when its CSIDriver is added or deleted, or its period changes. */
  onChange(listener: (driver: string) => void): void;
}

/** What the updater is built from. */
export interface CsiNodeAllocatableUpdaterOptions {
  drivers: Pick<CsiDrivers, 'get' | 'client'>;
  nodeInfo: Pick<CsiNodeInfo, 'updateDriverAllocatable'>;
  /**
   * A driver's CSIDriver `spec.nodeAllocatableUpdatePeriodSeconds` in ms, or 0 when it has none
   * or no CSIDriver object exists.
   */
  periodMs: (driver: string) => number;
  logger: KubeletLogger;
  clock?: Clock;
}

/**
 * Upstream's csiNodeUpdater (MutableCSINodeAllocatableCount, GA in v1.36): for each driver
 * registered here whose CSIDriver sets `nodeAllocatableUpdatePeriodSeconds`, NodeGetInfo is asked
 * again every period and the driver's `allocatable.count` in this node's CSINode follows its
 * `max_volumes_per_node`, so the scheduler sees attach slots that other software took. `sync`
 * is called whenever a driver registers or goes, or its CSIDriver changes.
 */
export class CsiNodeAllocatableUpdater {
  private readonly running = new Map<string, { periodMs: number; stop: () => void }>();
  private readonly clock: Clock;

  constructor(private readonly options: CsiNodeAllocatableUpdaterOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Upstream syncDriverUpdater: starts, restarts with a new period or stops the driver's updates. */
  sync(driver: string): void {
    const periodMs = this.options.drivers.get(driver) ? this.options.periodMs(driver) : 0;
    const current = this.running.get(driver);
    if (current?.periodMs === periodMs) return;
    current?.stop();
    this.running.delete(driver);
    if (periodMs <= 0) return;
    const stop = everyOn(this.clock, periodMs, () => void this.update(driver));
    this.running.set(driver, { periodMs, stop });
  }

  /** Stops every driver's updates (the kubelet is stopping). */
  stop(): void {
    for (const { stop } of this.running.values()) stop();
    this.running.clear();
  }

  /** Upstream updateCSIDriver: NodeGetInfo, then the count into the CSINode; a failure is logged and tried next period. */
  async update(driver: string): Promise<void> {
    try {
      const client = this.options.drivers.client(driver);
      if (!client) throw new Error(`driver name ${driver} not found in the list of registered CSI drivers`);
      const info = await client.nodeGetInfo(CSI_TIMEOUT_MS).catch((e: unknown) => {
        throw new Error(`failed to get NodeGetInfo from driver "${driver}": ${(e as Error).message}`);
      });
      await this.options.nodeInfo
        .updateDriverAllocatable(driver, info.maxVolumesPerNode)
        .catch((e: unknown) => {
          throw new Error(`failed to update driver "${driver}": ${(e as Error).message}`);
        });
    } catch (error) {
      this.options.logger.error({ err: (error as Error).message, driver }, 'Failed to update CSIDriver');
    }
  }
}
