import { type Clock, systemClock } from '@nodeagent/primitives';
import type { Pod } from '../api/pod-types';
import { unrefTimer } from '../clock-timers';

/**
 * Why a pod is handed to its worker (upstream SyncPodType): first seen, changed in its source, a
 * periodic or event-driven resync, or stop it.
 */
export type PodUpdateType = 'create' | 'update' | 'sync' | 'kill';
/** Where a pod's worker is: running it, stopping its containers, or stopped (only cleanup left). */
export type PodWorkerPhase = 'syncing' | 'terminating' | 'terminated';

/** One piece of work for a pod's worker; updates that arrive while a sync runs are coalesced. */
export interface PodUpdate {
  /** The pod as its source now has it (the newest update's pod wins). */
  pod: Pod;
  /** Why; a kill, or a set deletionTimestamp, moves the pod to terminating. */
  updateType: PodUpdateType;
  /** For kills: the grace period to use instead of the pod's. */
  gracePeriodSeconds?: number;
}

/** What {@link PodWorkerCallbacks.syncPod} reports back to the worker. */
export interface SyncPodResult {
  /** The pod reached Succeeded/Failed (or was rejected): stop its containers, keep the object. */
  terminal: boolean;
  /** Ask for another sync after this long (backoff end, retry after an error). */
  retryAfterMs?: number;
}

/**
 * The kubelet's three sync functions (upstream syncPod, syncTerminatingPod, syncTerminatedPod)
 * that {@link PodWorkers} calls, one at a time per pod. A rejection is reported to onError and
 * the same step is retried after the worker's retry delay.
 */
export interface PodWorkerCallbacks {
  /** Moves the runtime towards the pod's spec and reports its status. */
  syncPod(pod: Pod, updateType: Exclude<PodUpdateType, 'kill'>): Promise<SyncPodResult>;
  /** Stops the pod's containers, within `gracePeriodSeconds` when given (else the pod's own); runs once on success. */
  syncTerminatingPod(pod: Pod, gracePeriodSeconds: number | undefined): Promise<void>;
  /** Releases what the stopped pod held (volumes, runtime objects, the API object); retried until it succeeds. */
  syncTerminatedPod(pod: Pod): Promise<void>;
  /** A sync step failed in `stage`; it is retried after the retry delay. */
  onError?(pod: Pod, stage: PodWorkerPhase, error: unknown): void;
}

interface WorkerState {
  phase: PodWorkerPhase;
  pod: Pod;
  pending: PodUpdate | undefined;
  running: Promise<void> | undefined;
  retry: unknown;
  /** Set once a kill (deletion, eviction, removal from the source) was requested. */
  killRequested: boolean;
  gracePeriodSeconds: number | undefined;
  forgetWhenDone: boolean;
  /** Terminated, but syncTerminatedPod has not succeeded yet: it is retried on the next update. */
  cleanupPending: boolean;
}

/**
 * Upstream podWorkers: one serialized worker per pod uid. Updates arriving while a sync runs are
 * coalesced into the newest one. A pod moves syncing → terminating (stop containers, once) →
 * terminated (release resources) and never back; a pod with the same uid cannot be restarted
 * until it is forgotten.
 */
export class PodWorkers {
  private readonly workers = new Map<string, WorkerState>();
  private readonly callbacks: PodWorkerCallbacks;
  private readonly defaultRetryMs: number;
  private readonly clock: Clock;

  private readonly maxRetryMs: number;
  /** Set by stop(): no retry is scheduled after it. */
  private stopped = false;

  /**
   * `clock`: the clock retries wait on (default: the system clock). `maxRetryMs`: the longest a
   * requested retry waits (upstream caps a back-off's requeue at the resync interval).
   */
  constructor(
    callbacks: PodWorkerCallbacks,
    options: { retryMs?: number; clock?: Clock; maxRetryMs?: number } = {},
  ) {
    this.callbacks = callbacks;
    this.defaultRetryMs = options.retryMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.maxRetryMs = options.maxRetryMs ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Whether pod `uid` has a sync scheduled (a back-off's end, an error retry): upstream's work
   * queue holds one due time per pod, so the periodic resync leaves such a pod to that sync.
   */
  hasScheduledRetry(uid: string): boolean {
    return this.workers.get(uid)?.retry !== undefined;
  }

  /**
   * Queues `update` for its pod's worker, starting one for a new uid. A terminated pod ignores
   * updates unless its cleanup is still to succeed.
   */
  updatePod(update: PodUpdate): void {
    const uid = update.pod.metadata.uid ?? '';
    let state = this.workers.get(uid);
    if (!state) {
      state = {
        phase: 'syncing',
        pod: update.pod,
        pending: undefined,
        running: undefined,
        retry: undefined,
        killRequested: false,
        gracePeriodSeconds: undefined,
        forgetWhenDone: false,
        cleanupPending: false,
      };
      this.workers.set(uid, state);
    }
    // A terminated pod only comes back for a cleanup that failed.
    if (state.phase === 'terminated' && !state.cleanupPending) return;
    if (update.updateType === 'kill' || update.pod.metadata.deletionTimestamp) {
      state.killRequested = true;
      // A shorter grace period may replace a longer one, never the reverse.
      const grace = update.gracePeriodSeconds ?? update.pod.metadata.deletionGracePeriodSeconds;
      if (grace !== undefined) state.gracePeriodSeconds = Math.min(grace, state.gracePeriodSeconds ?? grace);
    }
    state.pod = update.pod;
    const previous = state.pending;
    // Keep the strongest update type of the coalesced ones (create > update > sync).
    const updateType =
      previous?.updateType === 'create' || (previous?.updateType === 'update' && update.updateType === 'sync')
        ? previous.updateType
        : update.updateType;
    state.pending = { ...update, updateType };
    this.kick(uid, state);
  }

  /** Starts the worker loop unless it runs; an update that lands while it winds down restarts it. */
  private kick(uid: string, state: WorkerState): void {
    if (state.running) return;
    const running = this.run(uid, state).finally(() => {
      if (state.running === running) state.running = undefined;
      if (state.forgetWhenDone && this.workers.get(uid) === state) this.workers.delete(uid);
      else if (state.pending) this.kick(uid, state);
    });
    state.running = running;
  }

  /** Pod `uid`'s worker phase, undefined for a pod without a worker (never seen, or forgotten). */
  phase(uid: string): PodWorkerPhase | undefined {
    return this.workers.get(uid)?.phase;
  }

  /** Whether pod `uid`'s containers are stopped for good (cleanup may still be running). */
  isTerminated(uid: string): boolean {
    return this.workers.get(uid)?.phase === 'terminated';
  }

  /**
   * Whether pod `uid` is terminated and its cleanup (syncTerminatedPod: volumes torn down) has
   * succeeded, or it has no worker (never seen, or forgotten).
   */
  isCleanedUp(uid: string): boolean {
    const state = this.workers.get(uid);
    return state === undefined || (state.phase === 'terminated' && !state.cleanupPending);
  }

  /** The newest pod object of every worker, terminated ones included until forgotten. */
  knownPods(): Pod[] {
    return [...this.workers.values()].map((state) => state.pod);
  }

  /** Drops a terminated pod's worker (once its work is done) so the uid could be used again. */
  forget(uid: string): void {
    const state = this.workers.get(uid);
    if (state?.phase !== 'terminated') return;
    if (state.retry) this.clock.clearTimeout(state.retry);
    if (state.running) state.forgetWhenDone = true;
    else this.workers.delete(uid);
  }

  /** Resolves when no worker has work in flight (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.workers.values()].map((state) => state.running).filter((p) => p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Cancels every scheduled retry, and none is scheduled from now on: a sync still in flight that
   * ends in an error or a back-off would otherwise start again after the kubelet stopped. Work in
   * flight goes on (see {@link idle}).
   */
  stop(): void {
    this.stopped = true;
    for (const state of this.workers.values()) if (state.retry) this.clock.clearTimeout(state.retry);
  }

  private async run(uid: string, state: WorkerState): Promise<void> {
    while (state.pending) {
      const update = state.pending;
      state.pending = undefined;
      if (state.retry) {
        this.clock.clearTimeout(state.retry);
        state.retry = undefined;
      }
      const pod = update.pod;
      if (state.phase === 'syncing' && !state.killRequested) {
        try {
          const result = await this.callbacks.syncPod(
            pod,
            update.updateType === 'kill' ? 'sync' : update.updateType,
          );
          if (result.terminal) state.phase = 'terminating';
          // Nothing to wait for (a RestartAllContainers reset): the next sync follows at once.
          else if (result.retryAfterMs !== undefined && result.retryAfterMs <= 0)
            state.pending ??= { pod: state.pod, updateType: 'sync' };
          else if (result.retryAfterMs !== undefined) this.scheduleRetry(uid, state, result.retryAfterMs);
        } catch (error) {
          this.callbacks.onError?.(pod, 'syncing', error);
          this.scheduleRetry(uid, state, this.defaultRetryMs);
        }
        if (state.phase === 'syncing') continue;
      }
      if (state.killRequested && state.phase === 'syncing') state.phase = 'terminating';
      if (state.phase === 'terminating') {
        try {
          await this.callbacks.syncTerminatingPod(state.pod, state.gracePeriodSeconds);
          state.phase = 'terminated';
          state.cleanupPending = true;
        } catch (error) {
          this.callbacks.onError?.(state.pod, 'terminating', error);
          this.scheduleRetry(uid, state, this.defaultRetryMs);
          continue;
        }
      }
      if (state.phase === 'terminated' && state.cleanupPending) {
        // Upstream retries a terminated pod's cleanup (volumes, runtime objects, API delete)
        // until it succeeds; a failure here must not leave a deleted pod Terminating for good.
        try {
          await this.callbacks.syncTerminatedPod(state.pod);
          state.cleanupPending = false;
        } catch (error) {
          this.callbacks.onError?.(state.pod, 'terminated', error);
          this.scheduleRetry(uid, state, this.defaultRetryMs);
        }
      }
    }
  }

  private scheduleRetry(uid: string, state: WorkerState, delayMs: number): void {
    if (state.retry) this.clock.clearTimeout(state.retry);
    state.retry = undefined;
    if (this.stopped) return;
    state.retry = this.clock.setTimeout(
      () => {
        state.retry = undefined;
        if (this.workers.get(uid) === state) this.updatePod({ pod: state.pod, updateType: 'sync' });
      },
      Math.min(Math.max(0, delayMs), this.maxRetryMs),
    );
    unrefTimer(state.retry);
  }
}
