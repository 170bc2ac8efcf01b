/**
 * How busy the whole machine was each minute of a soak: the 1-minute load average at the
 * minute's end and the share of the minute in which some runnable task waited for a CPU (the
 * kernel's pressure stall information, /proc/pressure/cpu "some"). An agent's own CPU seconds do
 * not show a saturated machine, but its event-loop delays, pauses and latencies then are the
 * machine's, not the agent's: on a 2-vCPU machine 110 pods' exec probes alone (11 `runc exec` a
 * second) can keep the CPUs full when a process start costs more there.
 */
import { readFileSync } from 'node:fs';
import { parsePressure } from '@nodeagent/kubelet/stats';

/** A minute's load, as written into each minute's record. */
export interface MachineMinute {
  loadAverage1m: number;
  /** Percent of the minute in which some task waited for a CPU; absent without PSI. */
  cpuPressurePct?: number;
}

const CPU_PRESSURE = '/proc/pressure/cpu';

/** Above this a minute's timings are taken as the machine's. */
export const SATURATED_PRESSURE_PCT = 50;

/** The 1-minute load average from /proc/loadavg's text. */
export function parseLoadAverage(text: string): number {
  const value = /^\s*(\d+(?:\.\d+)?)\s/.exec(text)?.[1];
  if (value === undefined) throw new Error(`/proc/loadavg: no load average in ${JSON.stringify(text)}`);
  return Number(value);
}

/** Reads the machine's load at each call, and the CPU pressure since the previous one. */
export class MachineLoad {
  private lastTotalUs: number | undefined;
  private lastAtMs: number;

  constructor(
    private readonly read: (path: string) => string | undefined = readIfPresent,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.lastTotalUs = this.pressureTotalUs();
    this.lastAtMs = this.nowMs();
  }

  take(): MachineMinute {
    const loadAverage1m = parseLoadAverage(this.read('/proc/loadavg') ?? '');
    const totalUs = this.pressureTotalUs();
    const atMs = this.nowMs();
    const elapsedUs = (atMs - this.lastAtMs) * 1000;
    const minute: MachineMinute = { loadAverage1m };
    if (totalUs !== undefined && this.lastTotalUs !== undefined && elapsedUs > 0)
      minute.cpuPressurePct = Number(
        Math.min(100, ((totalUs - this.lastTotalUs) / elapsedUs) * 100).toFixed(1),
      );
    this.lastTotalUs = totalUs;
    this.lastAtMs = atMs;
    return minute;
  }

  /** The cumulative microseconds in which some task waited for a CPU; undefined without PSI. */
  private pressureTotalUs(): number | undefined {
    const text = this.read(CPU_PRESSURE);
    return text === undefined ? undefined : parsePressure(text, CPU_PRESSURE).some.total;
  }
}

/** The run's minutes whose CPU pressure passed SATURATED_PRESSURE_PCT. */
export function saturatedMinutes(minutes: readonly { minute: number; machine?: MachineMinute }[]): number[] {
  return minutes
    .filter((m) => (m.machine?.cpuPressurePct ?? 0) > SATURATED_PRESSURE_PCT)
    .map((m) => m.minute);
}

/**
 * Whether each of a run's first `count` minutes was saturated: a day too slow for the run's shape
 * shows from its start, so the soak can say so then rather than after the hour.
 */
export function saturatedFromStart(
  minutes: readonly { minute: number; machine?: MachineMinute }[],
  count: number,
): boolean {
  const first = minutes.filter((m) => m.minute <= count);
  return first.length === count && saturatedMinutes(first).length === count;
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
