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
  /**
   * Upstream's PLEGOnDemandRelist gate (beta, on by default in v1.36): whether a pod whose sync
   * succeeded is relisted at once ({@link GenericPLEG.relistPod}). Default: on.
   */
  onDemandRelist?: boolean;
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
  private readonly previous = new Map<string, Map<string, PlegState>>();
  /**
   * Per pod: what the last relist listed. The runtime hands back the same sandbox and container
   * objects while nothing about them changed (criPodRuntime over the CRI client's shared list
   * items), so a pod listed with exactly the objects of last time has no event to raise and is not
   * compared state by state: a steady node's relist builds no per-pod maps (issue 35).
   */
  private readonly listed = new Map<string, PodRuntimeStatus>();
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
  /** Relists and single-pod relists run one after another (upstream's relistLock). */
  private lock: Promise<void> = Promise.resolve();
  private locks = 0;
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
    this.running = this.locked(() => this.doRelist()).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Whether a pod whose sync succeeded is relisted at once (the PLEGOnDemandRelist gate). */
  get onDemandRelist(): boolean {
    return this.options.onDemandRelist ?? true;
  }

  /**
   * Upstream relistPod, which the pod worker asks for after a sync whose actions all succeeded
   * (RequestPodRelist): reads this one pod from the runtime, raises the events for what changed
   * since the PLEG last saw it, and stores the pod in the cache and as the PLEG's baseline, so
   * the next periodic relist does not raise them again. Observes
   * kubelet_pleg_pod_relist_duration_seconds. Runs after a relist in flight, never beside it.
   * A failed read goes to onError and gives undefined: the next periodic relist retries.
   */
  relistPod(uid: string, name = '', namespace = ''): Promise<PodRuntimeStatus | undefined> {
    return this.locked(async () => {
      const start = this.clock.now();
      const sequence = ++this.sequence;
      try {
        const pod = await this.readPod(uid, name, namespace);
        const events: PodLifecycleEvent[] = [];
        const listed = pod.sandboxes.length + pod.containers.length > 0 ? pod : undefined;
        const baseline = { previous: this.previous, listed: this.listed };
        this.reconcile(uid, listed, { time: this.clock.now(), sequence }, baseline, events);
        for (const event of events) this.options.onEvent(event);
        return pod;
      } catch (error) {
        this.options.onError?.(error);
        return undefined;
      } finally {
        this.options.metrics?.plegPodRelistDuration.observe((this.clock.now() - start) / 1000);
      }
    });
  }

  /**
   * Runs `work` once the relists asked for before it have finished; at once when none runs, so
   * its listing starts when it is asked for (the cache orders observations by their start).
   */
  private locked<T>(work: () => Promise<T>): Promise<T> {
    const result = this.locks === 0 ? work() : this.lock.then(work);
    this.locks += 1;
    this.lock = result.then(
      () => {
        this.locks -= 1;
      },
      () => {
        this.locks -= 1;
      },
    );
    return result;
  }

  /**
   * Reads one pod's sandboxes and containers straight from the runtime into the cache, so the
   * pod's own sync sees what it just did without waiting for (or paying for) a relist of every
   * pod. The PLEG baseline does not move: the next relist still raises events for what changed
   * since the last relist, and the syncs they trigger act on states this sync only reported.
   */
  async refreshPod(uid: string, name = '', namespace = ''): Promise<PodRuntimeStatus> {
    const sequence = ++this.sequence;
    const status = await this.readPod(uid, name, namespace);
    this.options.cache.set(uid, status, this.clock.now(), sequence);
    // A listing that started later may already be cached; it is the newer view.
    return this.options.cache.get(uid)?.status ?? status;
  }

  /** One pod's sandboxes and containers as the runtime has them now (empty when it has none). */
  private async readPod(uid: string, name: string, namespace: string): Promise<PodRuntimeStatus> {
    const { runtime } = this.options;
    const status = runtime.podStatus
      ? await runtime.podStatus(uid)
      : (await runtime.listPods()).find((pod) => pod.uid === uid);
    return status ?? emptyPodRuntimeStatus(uid, name, namespace);
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
    // Pods gone from the runtime are reported once (their removal events) and then dropped. The
    // baseline is updated pod by pod in place (each pod's entry is read before it is written), so a
    // steady node's relist makes no new maps for V8 to promote and drop a second later.
    const baseline: Baseline = { previous: this.previous, listed: this.listed };
    for (const uid of new Set([...this.previous.keys(), ...byUid.keys()]))
      this.reconcile(uid, byUid.get(uid), { time: now, sequence }, baseline, events);
    this.lastRelist = now;
    this.relisted = true;
    metrics?.plegRelistDuration.observe((this.clock.now() - start) / 1000);
    metrics?.plegLastSeen.set(now / 1000);
    for (const event of events) this.options.onEvent(event);
  }

  /**
   * One pod of a relist (upstream reconcilePodRecord): the events for what changed since the
   * baseline, then the pod cached and written to `into` as the new baseline; a pod `listed`
   * without anything is dropped from the cache and from `into`.
   */
  private reconcile(
    uid: string,
    listed: PodRuntimeStatus | undefined,
    observed: { time: number; sequence: number },
    into: Baseline,
    events: PodLifecycleEvent[],
  ): void {
    const { cache } = this.options;
    const unchanged = this.previous.get(uid);
    if (listed && unchanged && sameObjects(this.listed.get(uid), listed)) {
      cache.set(uid, listed, observed.time, observed.sequence);
      into.previous.set(uid, unchanged);
      into.listed.set(uid, listed);
      return;
    }
    const old = cache.get(uid)?.status;
    const pod = listed ?? emptyPodRuntimeStatus(uid, old?.name ?? '', old?.namespace ?? '');
    const before = this.previous.get(uid) ?? new Map<string, PlegState>();
    const after = plegStates(pod);
    for (const id of new Set([...before.keys(), ...after.keys()])) {
      const oldState = before.get(id) ?? 'non-existent';
      const newState = after.get(id) ?? 'non-existent';
      if (oldState !== newState) events.push(...eventsFor(uid, id, oldState, newState));
    }
    if (listed) {
      cache.set(uid, pod, observed.time, observed.sequence);
      into.previous.set(uid, after);
      into.listed.set(uid, pod);
    } else {
      cache.delete(uid, observed.sequence);
      into.previous.delete(uid);
      into.listed.delete(uid);
    }
  }
}

/** What the PLEG compares the next listing with: each pod's states and the objects listed. */
interface Baseline {
  previous: Map<string, Map<string, PlegState>>;
  listed: Map<string, PodRuntimeStatus>;
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
