import { Backoff, type Clock } from '@nodeagent/primitives';
import { httpStatusCode } from '../api/http-status-code';
import { unrefTimer } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';

/** How long a driver whose plugins are all gone has to come back before its slices go (upstream defaultWipingDelay). */
export const DRA_WIPING_DELAY_MS = 30_000;

/** Upstream's wipe retries: 1 s doubling to 5 min, 20 % jitter, at most 100 tries. */
const WIPE_BACKOFF = { initialMs: 1000, factor: 2, jitter: 0.2, maxMs: 300_000 };
const WIPE_STEPS = 100;

/** A scheduled or running wipe: its timer, and the wake-up of its backoff sleep. */
interface WipeEntry {
  timer?: unknown;
  wake?: () => void;
  cancelled: boolean;
}

/** What wiping reads and deletes through the API server. */
export interface ResourceSliceApi {
  /** DELETE of the resource.k8s.io/v1 resourceslices collection with this field selector. */
  deleteResourceSlices(fieldSelector: string): Promise<void>;
  /** Whether this node's Node object exists yet; until it does the wipe waits, as upstream's getNode. */
  nodeExists(): Promise<boolean>;
}

/**
 * Deletes this node's ResourceSlices (upstream DRAPluginManager.wipeResourceSlices): all of them
 * at start-up (no driver has registered yet, so nothing they advertise is usable), and one
 * driver's once it has been gone for the wiping delay. Each wipe retries with upstream's backoff
 * until the API server accepts it; `cancel` stops a pending one when its driver comes back.
 */
export class ResourceSliceWiper {
  private readonly pending = new Map<string, WipeEntry>();
  private stopped = false;

  constructor(
    private readonly api: ResourceSliceApi,
    private readonly nodeName: string,
    private readonly clock: Clock,
    private readonly logger: KubeletLogger,
    private readonly random: () => number = Math.random,
  ) {}

  /** Wipes now, retrying in the background; resolves once done, given up or cancelled. `driver` '' is every driver. */
  wipe(driver: string): Promise<void> {
    const entry = this.pending.get(driver) ?? { cancelled: false };
    this.pending.set(driver, entry);
    return this.retry(driver, entry);
  }

  /** Wipes `driver`'s slices after `delayMs` unless cancelled first; a wipe already pending keeps its time. */
  schedule(driver: string, delayMs: number): void {
    if (this.stopped || this.pending.has(driver)) return;
    const entry: WipeEntry = { cancelled: false };
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = undefined;
      void this.retry(driver, entry);
    }, delayMs);
    unrefTimer(entry.timer);
    this.pending.set(driver, entry);
  }

  /** Whether a wipe of `driver` is scheduled or under way. */
  isPending(driver: string): boolean {
    return this.pending.has(driver);
  }

  /** The driver is usable again: its pending wipe is dropped. */
  cancel(driver: string): void {
    const entry = this.pending.get(driver);
    if (!entry) return;
    entry.cancelled = true;
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    entry.wake?.();
    this.pending.delete(driver);
  }

  /** Cancels every pending wipe. */
  stop(): void {
    this.stopped = true;
    for (const driver of [...this.pending.keys()]) this.cancel(driver);
  }

  private async retry(driver: string, entry: WipeEntry): Promise<void> {
    const backoff = new Backoff({
      ...WIPE_BACKOFF,
      resetAfterMs: Number.POSITIVE_INFINITY,
      now: () => this.clock.now(),
      random: this.random,
    });
    const selector = `spec.nodeName=${this.nodeName}${driver ? `,spec.driver=${driver}` : ''}`;
    try {
      for (let step = 0; step < WIPE_STEPS && !entry.cancelled && !this.stopped; step++) {
        if (await this.tryOnce(selector)) {
          this.logger.info({ fieldSelector: selector }, 'Deleted ResourceSlices');
          return;
        }
        await new Promise<void>((resolve) => {
          entry.wake = resolve;
          entry.timer = this.clock.setTimeout(resolve, backoff.next());
          unrefTimer(entry.timer);
        });
        entry.wake = undefined;
      }
    } finally {
      if (this.pending.get(driver) === entry) this.pending.delete(driver);
    }
  }

  /** One attempt: true once the slices are gone. */
  private async tryOnce(selector: string): Promise<boolean> {
    try {
      if (!(await this.api.nodeExists())) return false;
    } catch (error) {
      this.logger.error({ err: String(error) }, 'Unexpected error checking for node');
      return false;
    }
    try {
      await this.api.deleteResourceSlices(selector);
      return true;
    } catch (error) {
      if (httpStatusCode(error) === 404) return true;
      this.logger.info(
        { fieldSelector: selector, err: String(error) },
        'Deleting ResourceSlice failed, retrying',
      );
      return false;
    }
  }
}
