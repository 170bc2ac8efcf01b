import type { KubeConfig } from '@kubernetes/client-node';
import { Informer, type InformerObject } from '@nodeagent/informer';
import type { Clock } from '@nodeagent/primitives';
import { everyOn, unrefTimer } from '../clock-timers';
import { ObjectCacheSyncError, ObjectNotRegisteredError } from './object-errors';
import { type ObjectKind, type ObjectStore, objectKinds, objectStoreKey } from './object-store';

/** Upstream's floor on how long an unread object stays watched (minIdleTime). */
export const minIdleTimeMs = 60_000;
/** How often idle watches are looked for (upstream: wait.Until every minute). */
const recyclePeriodMs = 60_000;
/** How long a read waits for a new watch's first list (upstream: PollImmediate for a second). */
const defaultSyncTimeoutMs = 1_000;

/** What a {@link WatchObjectStore} watches with and how long an unread watch lives. */
export interface WatchObjectStoreOptions {
  kind: ObjectKind;
  kubeConfig: KubeConfig;
  clock: Clock;
  /**
   * The kubelet's syncFrequency: a watch nobody read for five of them is stopped (upstream's
   * maxIdleTime; volumes are read at every sync, so only env-only references go idle), at least
   * {@link minIdleTimeMs}.
   */
  resyncIntervalMs: number;
  /** How long a read waits for a new watch's first list (default 1 s, upstream's). */
  syncTimeoutMs?: number;
  /** Each failed list or watch (the reflector retries them). */
  onError?: (error: unknown) => void;
}

/** One watched object: its watch (a reflector on metadata.name=<name>) and who references it. */
interface WatchedObject<T extends InformerObject> {
  refCount: number;
  informer: Informer<T>;
  lastAccessMs: number;
  stopped: boolean;
  /** Seen immutable: its watch stays stopped and its last state is served for good. */
  immutable: boolean;
}

function isImmutable(object: unknown): boolean {
  return (object as { immutable?: boolean }).immutable === true;
}

/**
 * Upstream's watch-based object cache (pkg/kubelet/util/manager/watch_based_manager.go): one
 * watch per referenced ConfigMap or Secret (fieldSelector metadata.name=<name> in its namespace,
 * its first state through a watch-list stream as client-go's reflector reads it), started by the
 * first reference and stopped with the last. Reads are served from the watch's copy: no GET.
 * An object seen immutable stops being watched; a watch nobody read for five sync periods is
 * stopped and started again by the next read.
 */
export class WatchObjectStore<T extends InformerObject> implements ObjectStore<T> {
  private readonly items = new Map<string, WatchedObject<T>>();
  private readonly maxIdleMs: number;
  private readonly stopRecycle: () => void;

  constructor(private readonly options: WatchObjectStoreOptions) {
    this.maxIdleMs = Math.max(options.resyncIntervalMs * 5, minIdleTimeMs);
    this.stopRecycle = everyOn(options.clock, recyclePeriodMs, () => this.recycleIdle());
  }

  private newInformer(namespace: string, name: string): Informer<T> {
    const informer = new Informer<T>({
      kubeConfig: this.options.kubeConfig,
      resource: { apiVersion: 'v1', plural: objectKinds[this.options.kind].plural, namespace },
      fieldSelector: `metadata.name=${name}`,
      onError: this.options.onError,
    });
    informer.start();
    return informer;
  }

  addReference(namespace: string, name: string): void {
    const key = objectStoreKey(namespace, name);
    let item = this.items.get(key);
    if (!item) {
      item = {
        refCount: 0,
        informer: this.newInformer(namespace, name),
        lastAccessMs: this.options.clock.now(),
        stopped: false,
        immutable: false,
      };
      this.items.set(key, item);
    }
    item.refCount++;
  }

  deleteReference(namespace: string, name: string): void {
    const key = objectStoreKey(namespace, name);
    const item = this.items.get(key);
    if (!item) return;
    item.refCount--;
    if (item.refCount > 0) return;
    this.items.delete(key);
    this.stopItem(item);
  }

  async get(namespace: string, name: string): Promise<T | undefined> {
    const key = objectStoreKey(namespace, name);
    const item = this.items.get(key);
    if (!item) throw new ObjectNotRegisteredError(namespace, name);
    // Recorded whether the read succeeds or not: a watch is never stopped under a read.
    item.lastAccessMs = this.options.clock.now();
    if (item.stopped && !item.immutable) {
      item.informer = this.newInformer(namespace, name);
      item.stopped = false;
    }
    if (!item.informer.hasSynced()) await this.waitForSync(item, namespace, name);
    const object = item.informer.get(key);
    if (object && isImmutable(object) && !item.immutable) {
      item.immutable = true;
      this.stopItem(item);
    }
    return object;
  }

  private async waitForSync(item: WatchedObject<T>, namespace: string, name: string): Promise<void> {
    const { clock, syncTimeoutMs = defaultSyncTimeoutMs } = this.options;
    // The informer forgets a wait given up on: a pod retried every second while the watch's
    // list keeps failing must not leave a waiter behind each time.
    const giveUp = new AbortController();
    const timer = clock.setTimeout(() => giveUp.abort(), syncTimeoutMs);
    unrefTimer(timer);
    const ok = await item.informer.waitForSync(giveUp.signal).then(
      () => true,
      () => false,
    );
    clock.clearTimeout(timer);
    if (!ok) throw new ObjectCacheSyncError(objectKinds[this.options.kind].resource, namespace, name);
  }

  private stopItem(item: WatchedObject<T>): void {
    if (item.stopped) return;
    item.stopped = true;
    void item.informer.stop().catch((error: unknown) => this.options.onError?.(error));
  }

  /** Upstream startRecycleIdleWatch: watches synced and unread for maxIdleTime are stopped. */
  private recycleIdle(): void {
    const now = this.options.clock.now();
    for (const item of this.items.values()) {
      if (!item.stopped && item.informer.hasSynced() && now > item.lastAccessMs + this.maxIdleMs)
        this.stopItem(item);
    }
  }

  async stop(): Promise<void> {
    this.stopRecycle();
    const informers = [...this.items.values()].map((item) => item.informer);
    this.items.clear();
    await Promise.all(informers.map((informer) => informer.stop().catch(() => undefined)));
  }
}
