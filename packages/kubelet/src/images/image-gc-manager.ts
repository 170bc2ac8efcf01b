import { type Clock, systemClock } from '@nodeagent/primitives';
import { unrefTimer } from '../clock-timers';
import type { NodeEventRecorder } from '../events/event-reasons';
import type { FsStats } from '../stats/summary-types';
import { ImageGCError } from './image-gc-errors';
import { type ImageGCPolicy, imageGCPeriodMs } from './image-gc-policy';
import type { ImageService, RuntimeImage } from './image-service';

/** Upstream events.InvalidDiskCapacity and its message: the image filesystem reported no capacity. */
export const invalidDiskCapacityReason = 'InvalidDiskCapacity';
export const invalidDiskCapacityMessage = 'invalid capacity 0 on image filesystem';
/** Upstream events.FreeDiskSpaceFailed: a pass could not free what the thresholds asked for. */
export const freeDiskSpaceFailedReason = 'FreeDiskSpaceFailed';
/** Upstream events.ImageGCFailed: recorded by the periodic loop for a failure following a failure. */
export const imageGCFailedReason = 'ImageGCFailed';

interface ImageRecord {
  firstDetected: number;
  /** When a container last used it; undefined until one is seen. */
  lastUsed: number | undefined;
  sizeBytes: number;
  pinned: boolean;
}

/** The runtime's images, what uses them, the image filesystem and the thresholds an ImageGCManager works with. */
export interface ImageGCManagerOptions {
  /** Lists and removes the runtime's images, e.g. criImageService(). */
  images: ImageService;
  /** Image refs (image ids) of every container the runtime holds, running or not. */
  imagesInUse: () => Promise<Iterable<string>>;
  /** The image filesystem: capacityBytes and availableBytes (CRI ImageFsInfo + statfs). */
  imageFs: () => Promise<FsStats | undefined>;
  /** Thresholds and ages, e.g. from imageGCPolicyFromConfig(). */
  policy: ImageGCPolicy;
  /** The clock for image ages and the GC timer (default: the system clock). */
  clock?: Clock;
  /** Called for each removed image: unused past imageMaximumGCAge (`age`) or freed for disk usage (`space`). */
  onRemoved?: (image: RuntimeImage, reason: 'age' | 'space') => void;
  /**
   * Called when a periodic pass fails, with whether the pass before failed too; the next period
   * runs anyway.
   */
  onError?: (error: unknown, failedBefore: boolean) => void;
  /** Records the image manager's Node events (InvalidDiskCapacity, FreeDiskSpaceFailed). */
  recordNodeEvent?: NodeEventRecorder;
  /**
   * Upstream postGCHooks, run after each freeing of space with the ids of the images the runtime
   * still holds and the time the pass began (before the images were listed): the verified-pull
   * manager forgets the records of images that are gone.
   */
  afterFreeSpace?: (remainingImageIds: string[], began: number) => Promise<void>;
}

/** What one GC pass did. */
export interface ImageGCResult {
  removed: string[];
  freedBytes: number;
}

/**
 * Upstream realImageGCManager: tracks when each image was first seen and last used by a
 * container; every imageGCPeriod removes images unused for longer than imageMaximumGCAge, and
 * when the image filesystem is at or above imageGCHighThresholdPercent removes unused images,
 * least recently used first and never younger than imageMinimumGCAge nor pinned, until usage
 * is back at imageGCLowThresholdPercent.
 */
export class ImageGCManager {
  private readonly options: ImageGCManagerOptions;
  private readonly clock: Clock;
  private readonly records = new Map<string, ImageRecord>();
  private readonly images = new Map<string, RuntimeImage>();
  private timer: unknown;
  private running: Promise<unknown> | undefined;
  private lastPassFailed = false;

  constructor(options: ImageGCManagerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Runs a GC pass now and then every `periodMs` (upstream's wait.Until in
   * StartGarbageCollection, 5 min); a second call does nothing.
   */
  start(periodMs = imageGCPeriodMs): void {
    if (this.timer) return;
    const tick = () => {
      this.running = this.garbageCollect().then(
        () => {
          this.lastPassFailed = false;
        },
        (error) => {
          this.options.onError?.(error, this.lastPassFailed);
          this.lastPassFailed = true;
        },
      );
      this.timer = this.clock.setTimeout(tick, periodMs);
      unrefTimer(this.timer);
    };
    tick();
  }

  /** Stops the periodic passes and resolves once a pass under way has finished. */
  async stop(): Promise<void> {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Upstream detectImages: refreshes the records; returns the ids in use right now. */
  async detectImages(now: number): Promise<Set<string>> {
    const [images, inUse] = await Promise.all([
      this.options.images.listImages(),
      this.options.imagesInUse().then((refs) => new Set(refs)),
    ]);
    const current = new Set<string>();
    for (const image of images) {
      current.add(image.id);
      this.images.set(image.id, image);
      let record = this.records.get(image.id);
      if (!record) {
        record = { firstDetected: now, lastUsed: undefined, sizeBytes: 0, pinned: false };
        this.records.set(image.id, record);
      }
      if (inUse.has(image.id)) record.lastUsed = now;
      record.sizeBytes = image.sizeBytes;
      record.pinned = image.pinned;
    }
    for (const id of [...this.records.keys()]) {
      if (!current.has(id)) {
        this.records.delete(id);
        this.images.delete(id);
      }
    }
    return new Set([...inUse].filter((id) => current.has(id)));
  }

  /** Removal candidates: unused and unpinned, least recently used (then first detected) first. */
  private evictionOrder(inUse: ReadonlySet<string>): [string, ImageRecord][] {
    return [...this.records.entries()]
      .filter(([id, record]) => !inUse.has(id) && !record.pinned)
      .sort(
        ([, a], [, b]) =>
          (a.lastUsed ?? a.firstDetected) - (b.lastUsed ?? b.firstDetected) ||
          a.firstDetected - b.firstDetected,
      );
  }

  private async remove(id: string, reason: 'age' | 'space'): Promise<number> {
    const record = this.records.get(id)!;
    await this.options.images.removeImage(id);
    const image = this.images.get(id);
    this.records.delete(id);
    this.images.delete(id);
    if (image) this.options.onRemoved?.(image, reason);
    return record.sizeBytes;
  }

  /** Upstream freeSpace: removes old-enough unused images until bytesToFree are freed. */
  private async freeSpace(
    bytesToFree: number,
    now: number,
    inUse: ReadonlySet<string>,
  ): Promise<ImageGCResult> {
    const result: ImageGCResult = { removed: [], freedBytes: 0 };
    for (const [id, record] of this.evictionOrder(inUse)) {
      if (result.freedBytes >= bytesToFree) break;
      // Possibly just pulled for a container about to start.
      if (now - record.firstDetected < this.options.policy.minAgeMs) continue;
      result.freedBytes += await this.remove(id, 'space');
      result.removed.push(id);
    }
    await this.options.afterFreeSpace?.([...this.records.keys()], now);
    return result;
  }

  /** One GC pass (upstream GarbageCollect). Throws ImageGCError when it could not free enough. */
  async garbageCollect(): Promise<ImageGCResult> {
    const now = this.clock.now();
    const inUse = await this.detectImages(now);
    const result: ImageGCResult = { removed: [], freedBytes: 0 };
    const { policy } = this.options;
    if (policy.maxAgeMs > 0) {
      for (const [id, record] of this.evictionOrder(inUse)) {
        if (now - (record.lastUsed ?? record.firstDetected) > policy.maxAgeMs) {
          result.freedBytes += await this.remove(id, 'age');
          result.removed.push(id);
        }
      }
    }
    const fs = await this.options.imageFs();
    const capacity = fs?.capacityBytes ?? 0;
    if (capacity <= 0) {
      this.options.recordNodeEvent?.('Warning', invalidDiskCapacityReason, invalidDiskCapacityMessage);
      throw new ImageGCError('imageFs.capacityBytes', capacity, invalidDiskCapacityMessage);
    }
    const available = Math.min(fs?.availableBytes ?? 0, capacity);
    const usagePercent = 100 - Math.trunc((available * 100) / capacity);
    if (usagePercent >= policy.highThresholdPercent) {
      const amountToFree = Math.trunc((capacity * (100 - policy.lowThresholdPercent)) / 100) - available;
      const freed = await this.freeSpace(amountToFree, now, inUse);
      result.removed.push(...freed.removed);
      result.freedBytes += freed.freedBytes;
      if (freed.freedBytes < amountToFree) {
        const message = `Failed to garbage collect required amount of images. Attempted to free ${amountToFree} bytes, but only found ${freed.freedBytes} bytes eligible to free.`;
        this.options.recordNodeEvent?.('Warning', freeDiskSpaceFailedReason, message);
        throw new ImageGCError('imageGCLowThresholdPercent', policy.lowThresholdPercent, message);
      }
    }
    return result;
  }

  /** Upstream DeleteUnusedImages (eviction's disk reclaim): every unused image old enough to go. */
  async deleteUnusedImages(): Promise<ImageGCResult> {
    const now = this.clock.now();
    const inUse = await this.detectImages(now);
    return this.freeSpace(Number.POSITIVE_INFINITY, now, inUse);
  }
}
