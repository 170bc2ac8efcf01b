import { type Clock, systemClock } from '@nodeagent/primitives';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { InvalidProbeError } from './errors';
import type { ExecProbeExecutor } from './exec-probe';
import { type NormalizedProbe, normalizeProbe } from './normalize-probe';
import type { ContainerPortSpec, ProbeRunOutcome, ProbeSpec, ProbeType } from './probe-types';
import { type ContainerState, type ProbeRunEvent, ProbeWorker } from './probe-worker';
import { ResultsManager } from './results-manager';
import type { ProbeTarget } from './run-probe';

/** The container fields probing needs, shaped like core/v1 `Container`. */
export interface ProbedContainer {
  name: string;
  ports?: ContainerPortSpec[];
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
}

/** Container state as the caller knows it; `started` is derived from the startup probe if omitted. */
export type ContainerStateInput = Omit<ContainerState, 'started'> & { started?: boolean };

/** How a ProbeManager runs probes: executor, concurrency, clock and hooks. */
export interface ProbeManagerOptions {
  /** Backs exec probes (the kubelet passes CRI ExecSync). */
  executor?: ExecProbeExecutor;
  /**
   * How long past timeoutSeconds an exec run may take before it counts as timed out (default
   * 50 ms). An executor that enforces the timeout in the runtime should be given its own deadline.
   */
  execTimeoutGraceMs?: number;
  /** At most this many probes run at once across all containers (default 100). */
  maxConcurrentProbes?: number;
  clock?: Clock;
  /** In [0, 1), for spreading first runs (default Math.random). */
  random?: () => number;
  userAgent?: string;
  /** Replaces the network/exec probe (tests); defaults to the real probers. */
  runProbe?: (probe: NormalizedProbe, target: ProbeTarget, signal?: AbortSignal) => Promise<ProbeRunOutcome>;
  /** Every probe run, for events and metrics. */
  onRun?: (event: ProbeRunEvent) => void;
  /** Errors thrown by getState, a custom runProbe or listeners; probing carries on. */
  onError?: (err: unknown) => void;
}

const PROBE_FIELDS: ReadonlyArray<[ProbeType, 'livenessProbe' | 'readinessProbe' | 'startupProbe']> = [
  ['Startup', 'startupProbe'],
  ['Liveness', 'livenessProbe'],
  ['Readiness', 'readinessProbe'],
];

/** How long before the prober started a container must have started to count as running before a kubelet restart. */
export const KUBELET_RESTART_GRACE_MS = 10_000;

/**
 * Runs all probes of all containers: one worker per container and probe type, results kept per
 * probe type in `liveness`, `readiness` and `startup`, a shared bound on concurrent probes.
 */
export class ProbeManager {
  readonly liveness = new ResultsManager('Liveness');
  readonly readiness = new ResultsManager('Readiness');
  readonly startup = new ResultsManager('Startup');
  private readonly limiter: ConcurrencyLimiter;
  private readonly workers = new Map<string, ProbeWorker[]>();
  /** When this manager (the kubelet's prober) started, on its clock. */
  private readonly startedAt: number;

  constructor(private readonly opts: ProbeManagerOptions = {}) {
    this.limiter = new ConcurrencyLimiter(opts.maxConcurrentProbes ?? 100);
    this.startedAt = (opts.clock ?? systemClock).now();
  }

  /** The results of one probe type (liveness, readiness or startup). */
  resultsFor(probeType: ProbeType): ResultsManager {
    return probeType === 'Liveness'
      ? this.liveness
      : probeType === 'Readiness'
        ? this.readiness
        : this.startup;
  }

  /**
   * Validates the container's probes (throwing `InvalidProbeError`/`PortNotFoundError` before
   * anything starts) and starts a worker per probe. `getState` is polled once per period.
   * Each worker probes at once; only within one period of the manager's start, for a container
   * that was already running before it (a kubelet restart adopting its containers), is the first
   * run spread over a random part of the period, so they do not all probe in the same instant.
   */
  addContainer(
    podUID: string,
    podIP: string,
    container: ProbedContainer,
    getState: () => ContainerStateInput | undefined,
  ): void {
    const key = containerKey(podUID, container.name);
    if (this.workers.has(key)) {
      throw new InvalidProbeError('container.name', container.name, `already probed in pod ${podUID}`);
    }
    const probes = PROBE_FIELDS.flatMap(([type, field]) => {
      const spec = container[field];
      return spec ? [[type, normalizeProbe(spec, type, container.ports ?? [])] as const] : [];
    });
    const hasStartup = container.startupProbe != null;
    const state = (): ContainerState | undefined => {
      const s = getState();
      if (!s) return undefined;
      const started =
        s.started ?? (s.running && (!hasStartup || this.startup.get(s.containerId) === 'Success'));
      return { ...s, started };
    };
    const target: ProbeTarget = {
      podIP,
      exec: this.opts.executor,
      execGraceMs: this.opts.execTimeoutGraceMs,
      userAgent: this.opts.userAgent,
    };
    const now = (this.opts.clock ?? systemClock).now();
    let initial: ContainerStateInput | undefined;
    try {
      initial = getState();
    } catch {
      // The worker's own first run reports it through onError.
    }
    const adopted = initial?.running === true && initial.startedAt < this.startedAt;
    // Upstream's kubeletRestartGracePeriod: running since more than 10 s before the prober began
    // means running before the kubelet restarted.
    const adoptedContainerId =
      adopted && initial && initial.startedAt < this.startedAt - KUBELET_RESTART_GRACE_MS
        ? initial.containerId
        : undefined;
    const workers = probes.map(
      ([probeType, probe]) =>
        new ProbeWorker({
          podUID,
          containerName: container.name,
          probeType,
          probe,
          target,
          results: this.resultsFor(probeType),
          getState: state,
          limiter: this.limiter,
          clock: this.opts.clock,
          random: this.opts.random,
          spreadFirstRun: adopted && now - this.startedAt < probe.periodSeconds * 1000,
          adoptedContainerId,
          runProbe: this.opts.runProbe,
          onRun: this.opts.onRun,
          // Readiness was gated until the startup probe passed: probe it now, not a period later.
          onStored:
            probeType === 'Startup'
              ? (result) => {
                  if (result === 'Success') workers.find((w) => w.probeType === 'Readiness')?.trigger();
                }
              : undefined,
          onError: this.opts.onError,
        }),
    );
    this.workers.set(key, workers);
    for (const w of workers) w.start();
  }

  /**
   * Runs the container's probe of this type now (the kubelet's manual trigger); false when the
   * container has no such probe.
   */
  trigger(podUID: string, containerName: string, probeType: ProbeType): boolean {
    const worker = this.workers
      .get(containerKey(podUID, containerName))
      ?.find((w) => w.probeType === probeType);
    worker?.trigger();
    return worker !== undefined;
  }

  /**
   * Resolves when the container's probe of this type has no run in flight (at once when it has
   * none or no such probe); never rejects. The kubelet waits on a triggered first run with it.
   */
  idle(podUID: string, containerName: string, probeType: ProbeType): Promise<void> {
    const worker = this.workers
      .get(containerKey(podUID, containerName))
      ?.find((w) => w.probeType === probeType);
    return worker ? worker.idle() : Promise.resolve();
  }

  /** Stops the container's workers (container stopped or pod deleted) and drops its results. */
  removeContainer(podUID: string, containerName: string): void {
    const key = containerKey(podUID, containerName);
    for (const w of this.workers.get(key) ?? []) w.stop();
    this.workers.delete(key);
  }

  get containerCount(): number {
    return this.workers.size;
  }

  /** Stops everything and waits for in-flight probes to settle. */
  async close(): Promise<void> {
    const all = [...this.workers.values()].flat();
    this.workers.clear();
    for (const w of all) w.stop();
    await Promise.all(all.map((w) => w.idle()));
  }
}

function containerKey(podUID: string, containerName: string): string {
  return `${podUID}/${containerName}`;
}
