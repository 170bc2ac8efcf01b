import { type Clock, systemClock } from '@nodeagent/primitives';
import type { ConcurrencyLimiter } from './concurrency-limiter';
import type { NormalizedProbe } from './normalize-probe';
import type { ProbeResult, ProbeRunOutcome, ProbeType } from './probe-types';
import type { ResultsManager } from './results-manager';
import { type ProbeTarget, runProbe } from './run-probe';

/** How many times in a row a probe whose run errored is run (upstream prober.go's maxProbeRetries). */
const MAX_PROBE_RETRIES = 3;

/** What the worker needs to know about the container each period (from the runtime / PLEG). */
export interface ContainerState {
  /** Runtime container ID; empty while the container does not exist yet. */
  containerId: string;
  running: boolean;
  /** When the current instance started running (epoch ms). */
  startedAt: number;
  /** Container has passed its startup probe (or has none). */
  started: boolean;
}

/** One probe run, reported whether or not it changed the stored result. */
export interface ProbeRunEvent {
  probeType: ProbeType;
  podUID: string;
  containerName: string;
  containerId: string;
  outcome: ProbeRunOutcome;
  /** Consecutive identical results so far, including this one. */
  resultRun: number;
  /** Clock time at which this period's tick fired (for scheduling jitter). */
  tickAt: number;
  /** Time the probe itself took, including any wait for a concurrency slot. */
  durationMs: number;
}

/** One container's probe: what to run, against what, and where results go. */
export interface ProbeWorkerOptions {
  podUID: string;
  containerName: string;
  probeType: ProbeType;
  probe: NormalizedProbe;
  target: ProbeTarget;
  results: ResultsManager;
  /** Current container state; undefined means "not known yet" and skips the period. */
  getState: () => ContainerState | undefined;
  limiter?: ConcurrencyLimiter;
  clock?: Clock;
  /** In [0, 1): fraction of the period to wait before the first run (when `spreadFirstRun`). */
  random?: () => number;
  /**
   * Wait a random part of one period before the first run (default true). The kubelet spreads
   * only the workers it starts right after its own (re)start, for containers already running;
   * a new container is probed as soon as it runs.
   */
  spreadFirstRun?: boolean;
  /**
   * A container found running when the kubelet (re)started, started well before it: no initial
   * result is stored for this instance, so its readiness and startup stay as the API last saw
   * them until a real run decides (upstream v1.35+, KEP-4781; `ChangeContainerStatusOnKubeletRestart`
   * off). A later instance gets the initial result as usual.
   */
  adoptedContainerId?: string;
  /** Replaces the network/exec probe (tests); defaults to the real probers. */
  runProbe?: (probe: NormalizedProbe, target: ProbeTarget, signal?: AbortSignal) => Promise<ProbeRunOutcome>;
  /** Every probe run, for events and metrics. */
  onRun?: (event: ProbeRunEvent) => void;
  /** A result this worker stored (after its threshold), changed or not. */
  onStored?: (result: ProbeResult) => void;
  /** Errors thrown by getState, runProbe or listeners; the worker keeps its cadence. */
  onError?: (err: unknown) => void;
}

/** Readiness starts "not ready", liveness "alive", startup "unknown" — as the kubelet does. */
export function initialResult(probeType: ProbeType): ProbeResult {
  return probeType === 'Readiness' ? 'Failure' : probeType === 'Liveness' ? 'Success' : 'Unknown';
}

/**
 * Periodically probes one container for one probe type, following the kubelet's worker: a first
 * run at start (spread over a period only when asked), then one run per period; a run inside
 * initialDelaySeconds is skipped and the next one comes when the delay ends, not a period later;
 * the startup gate skips runs; a result is stored only after successThreshold/failureThreshold
 * identical runs; after a liveness or startup failure the worker holds until the container is
 * replaced.
 */
export class ProbeWorker {
  private readonly clock: Clock;
  private readonly periodMs: number;
  private timer: unknown;
  private stopped = false;
  private anchor = 0;
  /** Index on the period grid of the run scheduled last (0 = the jittered first run). */
  private slot = 0;
  /** Wall-clock time the pending tick is for. */
  private dueAt = 0;
  private containerId = '';
  private onHold = false;
  private lastResult: ProbeResult | undefined;
  private resultRun = 0;
  private inFlight: Promise<void> | undefined;
  /** Whether the first run (on the grid or triggered) has come. */
  private ticked = false;
  /** Set by a run skipped for initialDelaySeconds: when the delay ends (clock ms). */
  private delayEndsAt: number | undefined;
  private readonly cancel = new AbortController();

  constructor(private readonly opts: ProbeWorkerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.periodMs = opts.probe.periodSeconds * 1000;
  }

  get probeType(): ProbeType {
    return this.opts.probeType;
  }

  /** Starts probing: at once, or after a random part of one period with `spreadFirstRun`. */
  start(): void {
    const spread = this.opts.spreadFirstRun ?? true;
    const jitter = spread ? Math.floor((this.opts.random ?? Math.random)() * this.periodMs) : 0;
    this.anchor = this.clock.now() + jitter;
    this.dueAt = this.anchor;
    this.timer = this.clock.setTimeout(() => this.tick(), jitter);
  }

  /** Stops probing, cancels an in-flight run (its result is discarded) and forgets the result. */
  stop(): void {
    this.stopped = true;
    this.cancel.abort();
    this.clock.clearTimeout(this.timer);
    if (this.containerId) this.opts.results.remove(this.containerId);
  }

  /**
   * Probes now, off the period grid, like the kubelet's manual trigger (sent when a running
   * container has no readiness result yet, so Ready need not wait for the next period). Does
   * nothing while a run is in flight or after stop.
   */
  trigger(): void {
    if (this.stopped || this.inFlight) return;
    // Before the first run on the grid: this run is the first, and the periods count from it.
    const first = !this.ticked;
    if (first) {
      this.clock.clearTimeout(this.timer);
      this.ticked = true;
      this.anchor = this.clock.now();
      this.slot = 0;
    }
    this.inFlight = this.doProbe()
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => {
        this.inFlight = undefined;
        if (first) this.scheduleNext();
        // Otherwise the grid's own run sees the initial delay again and schedules by it.
        else this.delayEndsAt = undefined;
      });
  }

  /** Resolves when the current run (if any) finished; for orderly shutdown and tests. */
  async idle(): Promise<void> {
    await this.inFlight;
  }

  private tick(): void {
    if (this.stopped) return;
    // Node arms timers from its cached loop time, so under load they can fire before the wall
    // clock reaches the slot; wait out the rest instead of probing early.
    const early = this.dueAt - this.clock.now();
    if (early > 0) {
      this.timer = this.clock.setTimeout(() => this.tick(), early);
      return;
    }
    this.ticked = true;
    if (this.inFlight) {
      // A triggered run is still going: this slot is taken by it.
      void this.inFlight.then(() => this.scheduleNext());
      return;
    }
    this.inFlight = this.doProbe()
      // A throwing getState/runProbe/listener must not kill the worker or the process.
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => {
        this.inFlight = undefined;
        this.scheduleNext();
      });
  }

  /** Next tick on the period grid from the first run, skipping ticks a slow probe overran. */
  private scheduleNext(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const delayEndsAt = this.delayEndsAt;
    this.delayEndsAt = undefined;
    if (delayEndsAt !== undefined && delayEndsAt < this.anchor + (this.slot + 1) * this.periodMs) {
      // The initial delay ends before the next period: probe then, and count periods from there.
      this.anchor = Math.max(delayEndsAt, now);
      this.slot = 0;
      this.dueAt = this.anchor;
      this.timer = this.clock.setTimeout(() => this.tick(), this.anchor - now);
      return;
    }
    const elapsed = Math.max(0, now - this.anchor);
    // Never the same grid slot twice: a timer may fire a millisecond early by Date.now().
    this.slot = Math.max(this.slot + 1, Math.floor(elapsed / this.periodMs) + 1);
    const next = this.anchor + this.slot * this.periodMs;
    this.dueAt = next;
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, next - now));
  }

  private async doProbe(): Promise<void> {
    const { opts } = this;
    const tickAt = this.clock.now();
    const state = opts.getState();
    if (!state?.containerId) return;
    if (state.containerId !== this.containerId) {
      // A new container instance: reset and resume probing.
      if (this.containerId) opts.results.remove(this.containerId);
      this.containerId = state.containerId;
      if (state.containerId !== opts.adoptedContainerId)
        opts.results.set(this.containerId, opts.podUID, initialResult(opts.probeType));
      this.onHold = false;
      this.lastResult = undefined;
      this.resultRun = 0;
    }
    if (this.onHold) return;
    if (!state.running) {
      opts.results.set(this.containerId, opts.podUID, 'Failure', 'container is not running');
      return;
    }
    const delayEndsAt = state.startedAt + opts.probe.initialDelaySeconds * 1000;
    if (this.clock.now() < delayEndsAt) {
      this.delayEndsAt = delayEndsAt;
      return;
    }
    if (state.started ? opts.probeType === 'Startup' : opts.probeType !== 'Startup') return;

    const probeFn = opts.runProbe ?? runProbe;
    // Exec probes run in this container instance (the executor gets its ID).
    const target: ProbeTarget = { ...opts.target, containerId: state.containerId };
    const run = () => probeFn(opts.probe, target, this.cancel.signal);
    const runOnce = () => (opts.limiter ? opts.limiter.run(run) : run());
    // Upstream's prober runs an errored probe (Unknown: the executor itself failed) up to
    // maxProbeRetries times in a row before it records the error and throws the result away.
    let outcome = await runOnce();
    for (let i = 1; i < MAX_PROBE_RETRIES && outcome.result === 'Unknown' && !this.cancel.signal.aborted; i++)
      outcome = await runOnce();
    const timing = { tickAt, durationMs: this.clock.now() - tickAt };
    // Stopped or replaced while the probe ran: the result belongs to nobody.
    if (this.stopped || state.containerId !== this.containerId) return;
    if (outcome.result === 'Unknown') {
      // The prober itself failed (e.g. the executor errored): the kubelet throws such results away.
      opts.onRun?.(this.event(outcome, 0, timing));
      return;
    }
    const result: ProbeResult = outcome.result === 'Failure' ? 'Failure' : 'Success';
    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    opts.onRun?.(this.event(outcome, this.resultRun, timing));
    if (
      (result === 'Failure' && this.resultRun < opts.probe.failureThreshold) ||
      (result === 'Success' && this.resultRun < opts.probe.successThreshold)
    ) {
      return;
    }
    opts.results.set(this.containerId, opts.podUID, result, outcome.output);
    opts.onStored?.(result);
    if (opts.probeType !== 'Readiness' && result === 'Failure') {
      // The container will be killed; hold until a new instance shows up.
      this.onHold = true;
      this.resultRun = 0;
    }
  }

  private event(
    outcome: ProbeRunOutcome,
    resultRun: number,
    timing: { tickAt: number; durationMs: number },
  ): ProbeRunEvent {
    return {
      probeType: this.opts.probeType,
      podUID: this.opts.podUID,
      containerName: this.opts.containerName,
      containerId: this.containerId,
      outcome,
      resultRun,
      ...timing,
    };
  }
}
