import { StatsSourceError } from './stats-errors';

/** USER_HZ: the unit of /proc/stat's counters on every Linux architecture Kubernetes runs on. */
export const userHz = 100;

/**
 * Cumulative busy CPU time of the node in nanoseconds from /proc/stat's aggregate "cpu" line:
 * user + nice + system + irq + softirq + steal (idle and iowait are not usage).
 */
export function cpuUsageCoreNanoSeconds(text: string, hz = userHz): number {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new StatsSourceError('/proc/stat', text.slice(0, 80), 'no aggregate cpu line');
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const ticks = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
  return Math.round((ticks * 1e9) / hz);
}

/** Boot time (ms since the epoch) from /proc/uptime's first field and the current time. */
export function bootTimeMs(uptimeText: string, nowMs: number): number {
  const seconds = Number(uptimeText.trim().split(/\s+/)[0]);
  if (!Number.isFinite(seconds)) throw new StatsSourceError('/proc/uptime', uptimeText, 'not a number');
  return nowMs - Math.round(seconds * 1000);
}
