import { StatsSourceError } from './stats-errors';

/**
 * The node's task limit as upstream's pidlimit package computes it: the smaller of
 * kernel.pid_max and kernel.threads-max, both system-wide caps on tasks.
 */
export function maxTasks(pidMaxText: string, threadsMaxText: string): number {
  const values = [pidMaxText, threadsMaxText].map((t) => Number(t.trim())).filter((n) => n > 0);
  if (values.length === 0)
    throw new StatsSourceError('/proc/sys/kernel/pid_max', pidMaxText, 'no positive task limit');
  return Math.min(...values);
}

/** Tasks that exist now: the denominator of /proc/loadavg's fourth field ("running/total"). */
export function runningTasks(loadavgText: string): number {
  const field = loadavgText.trim().split(/\s+/)[3] ?? '';
  const total = Number(field.split('/')[1]);
  if (!Number.isInteger(total))
    throw new StatsSourceError('/proc/loadavg', loadavgText, 'no running/total field');
  return total;
}
