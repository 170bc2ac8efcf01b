import type { Clock } from '@nodeagent/primitives';
import { everyOn, unrefTimer } from '../clock-timers';
import type { DiskUsage } from './pod-stats-assembly';

/** One pod's volumes as last measured: usage by volume name, and when it was measured. */
export interface PodVolumeSample {
  /** Milliseconds since the epoch, on the cache's clock, when the measurement ended. */
  atMs: number;
  volumes: Map<string, DiskUsage>;
}

/** What a {@link PodVolumeStatsCache} measures, for which pods, and how often. */
export interface PodVolumeStatsCacheOptions {
  /** volumeStatsAggPeriod in ms (> 0; a period of 0 or less means no volume stats at all). */
  periodMs: number;
  /** The uids of the pods the kubelet knows (upstream's podManager.GetPods). */
  pods: () => Iterable<string>;
  /** Measures one pod's volume directories. */
  measure: (uid: string) => Promise<Map<string, DiskUsage>>;
  clock: Clock;
  /** Jitter in [0, 1) (default Math.random): each pod waits period × (1 + jitter) between measurements. */
  random?: () => number;
}

/** One pod's background measurement (upstream's volumeStatCalculator). */
interface Calculator {
  latest?: PodVolumeSample;
  stopped: boolean;
  timer?: unknown;
}

/**
 * Pod volume usage measured in the background and read from a cache, as upstream's
 * fsResourceAnalyzer keeps it (volumeStatsAggPeriod): every period the known pods are looked
 * at, a pod seen for the first time gets its own measurement loop (at once, then after each
 * measurement a jittered period: wait.JitterUntil(period, 1.0, sliding)), a pod no longer known
 * has its loop stopped. A summary reads the latest sample and never measures itself, so a pod is
 * without volume stats until its first measurement, as upstream's.
 */
export class PodVolumeStatsCache {
  private calculators = new Map<string, Calculator>();
  private stopTicks: (() => void) | undefined;

  constructor(private readonly options: PodVolumeStatsCacheOptions) {}

  /** Looks at the pods now and then every period (wait.Forever). */
  start(): void {
    if (this.stopTicks) return;
    this.stopTicks = everyOn(this.options.clock, this.options.periodMs, () => this.update());
    this.update();
  }

  /** Ends the period and every pod's measurement loop. */
  stop(): void {
    this.stopTicks?.();
    this.stopTicks = undefined;
    for (const calculator of this.calculators.values()) this.stopCalculator(calculator);
    this.calculators.clear();
  }

  /** The pod's latest sample, or undefined before its first measurement (or for an unknown pod). */
  get(uid: string): PodVolumeSample | undefined {
    return this.calculators.get(uid)?.latest;
  }

  private update(): void {
    const next = new Map<string, Calculator>();
    for (const uid of this.options.pods())
      next.set(uid, this.calculators.get(uid) ?? this.startCalculator(uid));
    for (const [uid, calculator] of this.calculators) if (!next.has(uid)) this.stopCalculator(calculator);
    this.calculators = next;
  }

  private startCalculator(uid: string): Calculator {
    const calculator: Calculator = { stopped: false };
    const { clock, periodMs, measure } = this.options;
    const random = this.options.random ?? Math.random;
    const run = async () => {
      const volumes = await measure(uid).catch(() => undefined);
      if (calculator.stopped) return;
      if (volumes) calculator.latest = { atMs: clock.now(), volumes };
      calculator.timer = clock.setTimeout(run, periodMs * (1 + random()));
      unrefTimer(calculator.timer);
    };
    void run();
    return calculator;
  }

  private stopCalculator(calculator: Calculator): void {
    calculator.stopped = true;
    this.options.clock.clearTimeout(calculator.timer);
  }
}
