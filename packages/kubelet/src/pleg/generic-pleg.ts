import { type Clock, systemClock } from '../clock';
import { formatDuration } from '../config/duration';
import type { KubeletMetrics } from '../metrics';
import type { PodRuntime } from '../runtime/pod-runtime';
import type { PodRuntimeStatus } from '../runtime/runtime-state';
import type { PodCache } from './pod-cache';

export type PodLifecycleEventType =
  | 'ContainerStarted'
  | 'ContainerDied'
  | 'ContainerRemoved'
  | 'ContainerChanged';

export interface PodLifecycleEvent {
  podUid: string;
  type: PodLifecycleEventType;
  /** The container (or sandbox) id the event is about. */
  containerId: string;
}

type PlegState = 'running' | 'exited' | 'unknown' | 'created' | 'non-existent';

export interface GenericPLEGOptions {
  runtime: PodRuntime;
  cache: PodCache;
  onEvent: (event: PodLifecycleEvent) => void;
  clock?: Clock;
  /** Upstream: relist every second. */
  relistPeriodMs?: number;
  /** Upstream: not healthy when the last relist is older than 3 minutes. */
  relistThresholdMs?: number;
  metrics?: KubeletMetrics;
  onError?: (error: unknown) => void;
}

/**
 * Upstream GenericPLEG: relists every pod's sandboxes and containers from the runtime, compares
 * with the previous relist, emits lifecycle events for what changed, and refreshes the pod cache
 * that syncs read. Relists never overlap.
 */
export class GenericPLEG {
  private readonly options: GenericPLEGOptions;
  private readonly clock: Clock;
  private previous = new Map<string, Map<string, PlegState>>();
  private lastRelist: number;
  private lastRelistStart: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(options: GenericPLEGOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.lastRelist = this.clock.now();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = async () => {
      if (this.stopped) return;
      await this.relist().catch((error) => this.options.onError?.(error));
      if (!this.stopped) this.timer = setTimeout(tick, this.options.relistPeriodMs ?? 1000);
    };
    void tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Upstream Healthy(): relist must have completed within the threshold. */
  healthy(): { ok: true } | { ok: false; message: string } {
    const threshold = this.options.relistThresholdMs ?? 3 * 60_000;
    const since = this.clock.now() - this.lastRelist;
    if (since > threshold) {
      return {
        ok: false,
        message: `pleg was last seen active ${formatDuration(since)} ago; threshold is ${formatDuration(threshold)}`,
      };
    }
    return { ok: true };
  }

  /** One relist; concurrent callers share the one in flight. */
  relist(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.doRelist().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async doRelist(): Promise<void> {
    const start = this.clock.now();
    const metrics = this.options.metrics;
    if (this.lastRelistStart !== undefined)
      metrics?.plegRelistInterval.observe((start - this.lastRelistStart) / 1000);
    this.lastRelistStart = start;
    const pods = await this.options.runtime.listPods();
    const now = this.clock.now();
    const current = new Map<string, Map<string, PlegState>>();
    const byUid = new Map<string, PodRuntimeStatus>();
    for (const pod of pods) {
      byUid.set(pod.uid, pod);
      const states = new Map<string, PlegState>();
      for (const sandbox of pod.sandboxes) states.set(sandbox.id, sandbox.ready ? 'running' : 'exited');
      for (const container of pod.containers) states.set(container.id, container.state);
      current.set(pod.uid, states);
    }
    const events: PodLifecycleEvent[] = [];
    for (const uid of new Set([...this.previous.keys(), ...current.keys()])) {
      const before = this.previous.get(uid) ?? new Map<string, PlegState>();
      const after = current.get(uid) ?? new Map<string, PlegState>();
      for (const id of new Set([...before.keys(), ...after.keys()])) {
        const oldState = before.get(id) ?? 'non-existent';
        const newState = after.get(id) ?? 'non-existent';
        if (oldState === newState) continue;
        events.push(...eventsFor(uid, id, oldState, newState));
      }
    }
    for (const [uid, pod] of byUid) this.options.cache.set(uid, pod, now);
    for (const uid of this.previous.keys()) {
      if (!current.has(uid)) {
        const old = this.options.cache.get(uid)?.status;
        this.options.cache.set(
          uid,
          { uid, name: old?.name ?? '', namespace: old?.namespace ?? '', sandboxes: [], containers: [] },
          now,
        );
      }
    }
    this.previous = current;
    this.lastRelist = now;
    metrics?.plegRelistDuration.observe((this.clock.now() - start) / 1000);
    metrics?.plegLastSeen.set(now / 1000);
    for (const event of events) this.options.onEvent(event);
  }
}

/** Upstream generateEvents. */
function eventsFor(
  podUid: string,
  containerId: string,
  oldState: PlegState,
  newState: PlegState,
): PodLifecycleEvent[] {
  const event = (type: PodLifecycleEventType) => ({ podUid, type, containerId });
  switch (newState) {
    case 'running':
      return [event('ContainerStarted')];
    case 'exited':
      return [event('ContainerDied')];
    case 'unknown':
    case 'created':
      return [event('ContainerChanged')];
    case 'non-existent':
      return oldState === 'exited'
        ? [event('ContainerRemoved')]
        : [event('ContainerDied'), event('ContainerRemoved')];
  }
}
