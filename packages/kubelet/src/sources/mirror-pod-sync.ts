import type { CoreV1Requests } from '@nodeagent/informer';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { httpStatusCode } from '../api/http-status-code';
import type { Pod } from '../api/pod-types';
import { unrefTimer } from '../clock-timers';
import { syncMirrorPods } from './api-clients';

/** The API calls {@link MirrorPodSync} makes and for which node. */
export interface MirrorPodSyncOptions {
  /** Reads the Node, lists and writes mirror pods. */
  core: Pick<
    CoreV1Requests,
    'readNode' | 'listPodForAllNamespaces' | 'deleteNamespacedPod' | 'createNamespacedPod'
  >;
  /** The node whose static pods are mirrored (and which owns the mirror pods). */
  nodeName: string;
  /** How soon a failed attempt (API server down, Node not registered yet) is retried. Default 10 s. */
  retryMs?: number;
  /** The clock retries wait on (default: the system clock). */
  clock?: Clock;
  /** After mirror pods were created or replaced: the static pods whose status should go out again. */
  onCreated?: (pods: Pod[]) => void;
  /** A failed attempt (it is retried after `retryMs`). */
  onError?: (error: unknown) => void;
}

/**
 * Keeps the API server's mirror pods in step with the static pods, independently of running
 * them (upstream tryReconcileMirrorPods): a static pod runs whether or not the API server
 * answers; its mirror pod is created once the Node exists (owned by it), and attempts are
 * retried while the API server is down or the Node is not registered yet.
 */
export class MirrorPodSync {
  private pods: Pod[] | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly options: MirrorPodSyncOptions) {}

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  /** The full set of static pods, as the static pod source last read them. */
  setStaticPods(pods: Pod[]): void {
    this.pods = pods;
    this.trigger();
  }

  /** Tries now (e.g. right after the Node was registered). */
  trigger(): void {
    if (this.stopped || this.pods === undefined) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.attempt().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.trigger();
      }
    });
  }

  /** Resolves when no attempt is running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No further attempts or retries; one in flight finishes (see {@link idle}). */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
  }

  private retryLater(): void {
    if (this.stopped) return;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.trigger(), this.options.retryMs ?? 10_000);
    unrefTimer(this.timer);
  }

  private async attempt(): Promise<void> {
    const pods = this.pods ?? [];
    const { core, nodeName } = this.options;
    try {
      // Upstream: no mirror pod without the Node (its owner), nor for a Node being deleted.
      const node = await core.readNode({ name: nodeName }).catch((error) => {
        if (httpStatusCode(error) === 404) return undefined;
        throw error;
      });
      if (!node || node.metadata?.deletionTimestamp) {
        this.retryLater();
        return;
      }
      const created = await syncMirrorPods(core, pods, nodeName, node.metadata?.uid);
      if (created.length > 0) this.options.onCreated?.(created);
    } catch (error) {
      this.options.onError?.(error);
      this.retryLater();
    }
  }
}
