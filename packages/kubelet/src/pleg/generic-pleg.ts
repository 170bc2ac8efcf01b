import { type Clock, formatDuration, systemClock } from '@nodeagent/primitives';
import type { PodRuntime } from '../cri/pod-runtime';
import { emptyPodRuntimeStatus, type PodRuntimeStatus } from '../cri/runtime-state';
import type { KubeletMetrics } from '../metrics';
import type { PodCache } from './pod-cache';

/**
 * What changed about a container between two relists (upstream's PodLifecycleEventType):
 * started running, exited, disappeared, or moved to created/unknown.
 */
export type PodLifecycleEventType =
  | 'ContainerStarted'
  | 'ContainerDied'
  | 'ContainerRemoved'
  | 'ContainerChanged';

/** One change the PLEG saw in the runtime, which makes the kubelet sync the pod. */
export interface PodLifecycleEvent {
  /** The pod the container belongs to. */
  podUid: string;
  /** What happened to it. */
  type: PodLifecycleEventType;
  /** The container (or sandbox) id the event is about. */
  containerId: string;
}

type PlegState = 'running' | 'exited' | 'unknown' | 'created' | 'non-existent';

/** What a {@link GenericPLEG} lists, where it stores what it saw and whom it tells. */
export interface GenericPLEGOptions {
  /** The runtime listed at each relist. */
  runtime: PodRuntime;
  /** Refreshed with every pod's runtime status at each relist. */
  cache: PodCache;
  /** Called for each change found, after the cache holds the new state. */
  onEvent: (event: PodLifecycleEvent) => void;
  /** Relist timing and health run on it (default: the system clock). */
  clock?: Clock;
  /** Upstream: relist every second. */
  relistPeriodMs?: number;
  /** Upstream: not healthy when the last relist is older than 3 minutes. */
  relistThresholdMs?: number;
  /** Where relist duration, interval and last-seen are recorded (kubelet_pleg_*). */
  metrics?: KubeletMetrics;
  /** A failed periodic relist (the next one runs on schedule). */
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
  /** Per pod: the state of each sandbox and container at the last relist. */
  private previous = new Map<string, Map<string, PlegState>>();
  /**
   * Per pod: what the last relist listed. The runtime hands back the same sandbox and container
   * objects while nothing about them changed (criPodRuntime over the CRI client's shared list
   * items), so a pod listed with exactly the objects of last time has no event to raise and is not
   * compared state by state: a steady node's relist builds no per-pod maps (issue 35).
   */
  private listed = new Map<string, PodRuntimeStatus>();
  /** Numbers observations in the order they start (see PodCache.set). */
  private sequence = 0;
  /**
   * Whether a relist has completed. From then on a pod missing from the cache has nothing in the
   * runtime: only the kubelet creates objects for its pods and reads them back right after.
   */
  relisted = false;
  private lastRelist: number;
  private lastRelistStart: number | undefined;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(options: GenericPLEGOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.lastRelist = this.clock.now();
  }

  /** Relists now and then every `relistPeriodMs` until {@link stop}; a second call does nothing. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = async () => {
      if (this.stopped) return;
      await this.relist().catch((error) => this.options.onError?.(error));
      if (!this.stopped) this.timer = this.clock.setTimeout(tick, this.options.relistPeriodMs ?? 1000);
    };
    void tick();
  }

  /** Stops relisting and waits for a relist in flight; never rejects. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    // A relist failing as the PLEG stops was reported already; stopping must not throw for it.
    await this.running?.catch(() => undefined);
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

  /**
   * Reads one pod's sandboxes and containers straight from the runtime into the cache, so the
   * pod's own sync sees what it just did without waiting for (or paying for) a relist of every
   * pod. The PLEG baseline does not move: the next relist still raises events for what changed
   * since the last relist, and the syncs they trigger act on states this sync only reported.
   */
  async refreshPod(uid: string, name = '', namespace = ''): Promise<PodRuntimeStatus> {
    const sequence = ++this.sequence;
    const { runtime } = this.options;
    const status =
      (runtime.podStatus
        ? await runtime.podStatus(uid)
        : (await runtime.listPods()).find((pod) => pod.uid === uid)) ??
      emptyPodRuntimeStatus(uid, name, namespace);
    this.options.cache.set(uid, status, this.clock.now(), sequence);
    // A listing that started later may already be cached; it is the newer view.
    return this.options.cache.get(uid)?.status ?? status;
  }

  /** Drops a pod the kubelet is done with (its sandboxes and containers are removed). */
  forgetPod(uid: string): void {
    this.previous.delete(uid);
    this.listed.delete(uid);
    this.options.cache.delete(uid);
  }

  private async doRelist(): Promise<void> {
    const start = this.clock.now();
    const sequence = ++this.sequence;
    const metrics = this.options.metrics;
    if (this.lastRelistStart !== undefined)
      metrics?.plegRelistInterval.observe((start - this.lastRelistStart) / 1000);
    this.lastRelistStart = start;
    const pods = await this.options.runtime.listPods();
    const now = this.clock.now();
    const byUid = new Map<string, PodRuntimeStatus>();
    for (const pod of pods) byUid.set(pod.uid, pod);
    const events: PodLifecycleEvent[] = [];
    const next = new Map<string, Map<string, PlegState>>();
    const nextListed = new Map<string, PodRuntimeStatus>();
    for (const uid of new Set([...this.previous.keys(), ...byUid.keys()])) {
      const listed = byUid.get(uid);
      const unchanged = this.previous.get(uid);
      if (listed && unchanged && sameObjects(this.listed.get(uid), listed)) {
        this.options.cache.set(uid, listed, now, sequence);
        next.set(uid, unchanged);
        nextListed.set(uid, listed);
        continue;
      }
      const old = this.options.cache.get(uid)?.status;
      const pod = listed ?? emptyPodRuntimeStatus(uid, old?.name ?? '', old?.namespace ?? '');
      const before = this.previous.get(uid) ?? new Map<string, PlegState>();
      const after = plegStates(pod);
      for (const id of new Set([...before.keys(), ...after.keys()])) {
        const oldState = before.get(id) ?? 'non-existent';
        const newState = after.get(id) ?? 'non-existent';
        if (oldState === newState) continue;
        events.push(...eventsFor(uid, id, oldState, newState));
      }
      // Pods gone from the runtime are reported once (their removal events) and then dropped.
      if (byUid.has(uid)) {
        this.options.cache.set(uid, pod, now, sequence);
        next.set(uid, after);
        nextListed.set(uid, pod);
      } else {
        this.options.cache.delete(uid, sequence);
      }
    }
    this.previous = next;
    this.listed = nextListed;
    this.lastRelist = now;
    this.relisted = true;
    metrics?.plegRelistDuration.observe((this.clock.now() - start) / 1000);
    metrics?.plegLastSeen.set(now / 1000);
    for (const event of events) this.options.onEvent(event);
  }
}

/** Whether both list the same sandbox and container objects (in any order). */
function sameObjects(before: PodRuntimeStatus | undefined, now: PodRuntimeStatus): boolean {
  if (!before) return false;
  const same = <T>(a: T[], b: T[]) => a.length === b.length && a.every((item) => b.includes(item));
  return same(before.sandboxes, now.sandboxes) && same(before.containers, now.containers);
}

function plegStates(pod: PodRuntimeStatus): Map<string, PlegState> {
  const states = new Map<string, PlegState>();
  for (const sandbox of pod.sandboxes) states.set(sandbox.id, sandbox.ready ? 'running' : 'exited');
  for (const container of pod.containers) states.set(container.id, container.state);
  return states;
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
