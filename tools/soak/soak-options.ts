/**
 * The soak's command line: `[--minutes N] [--agent kubelet|kube-proxy|both] [--api-server-restarts
 * M,M…] [--heap-snapshots M,M…] [--cpu-profile-over MS] [--trace-gc] [--trace-opt]
 * [--trace-malloc-trim] [--journalled-ext4] [--probe-period S] [--pod-churn-period S]`, each value checked here so a bad one is refused by
 * its flag before anything starts.
 */
import { parseArgs } from 'node:util';
import { parseProfileThreshold } from './cpu-profiles';
import { parseSnapshotMinutes } from './heap-snapshots';
import { parseMinuteList } from './minute-list';

/** A bad command line: the flag and the value. */
export class SoakArgumentError extends Error {
  override readonly name = 'SoakArgumentError';
  readonly code = 'SOAK_BAD_ARGUMENT';
}

export type Agent = 'kubelet' | 'kube-proxy';

export interface SoakOptions {
  minutes: number;
  agents: Agent[];
  /**
   * Minutes at which the API server restarts, every watch broken (--api-server-restarts; N/3 and
   * 2N/3): more of them ask whether each relist leaves memory behind.
   */
  apiServerRestarts: number[];
  /** Minutes at which each agent's V8 heap is written (--heap-snapshots). */
  heapSnapshots?: number[];
  /** Profile each agent; keep the periods whose longest delay or task reached this many ms (--cpu-profile-over). */
  cpuProfileOverMs?: number;
  /** Each agent runs with V8's --trace-gc: collections by kind, and its page pool, each minute (--trace-gc). */
  traceGc: boolean;
  /** Each agent runs with V8's --trace-opt and --trace-deopt: compilations and deoptimisations each minute (--trace-opt). */
  traceOpt: boolean;
  /** Each malloc_trim call of each agent timed by a uprobe, outside the agent (--trace-malloc-trim). */
  traceMallocTrim: boolean;
  journalledExt4: boolean;
  /** The kubelet's pods' exec readiness probe period (10 s, as upstream's comparison shape). */
  probePeriodSeconds: number;
  /** Seconds between the kubelet's churn steps, each one pod deleted and one created (2). */
  podChurnPeriodSeconds: number;
}

const AGENTS: Record<string, Agent[]> = {
  both: ['kubelet', 'kube-proxy'],
  kubelet: ['kubelet'],
  'kube-proxy': ['kube-proxy'],
};

export function parseSoakOptions(args: string[]): SoakOptions {
  const values = parseFlags(args);
  const minutes = Number(values.minutes);
  if (!Number.isInteger(minutes) || minutes < 3)
    throw new SoakArgumentError(`--minutes ${values.minutes}: a whole number of minutes, at least 3`);
  const agents = AGENTS[values.agent];
  if (!agents) throw new SoakArgumentError(`--agent ${values.agent}: kubelet, kube-proxy or both`);
  // A probe's periodSeconds as the API server admits it: a whole number, at least 1.
  const probePeriodSeconds = wholeSeconds('probe-period', values['probe-period']);
  const podChurnPeriodSeconds = wholeSeconds('pod-churn-period', values['pod-churn-period']);
  const options: SoakOptions = {
    minutes,
    agents,
    apiServerRestarts: restartMinutes(values['api-server-restarts'], minutes),
    traceGc: values['trace-gc'],
    traceOpt: values['trace-opt'],
    traceMallocTrim: values['trace-malloc-trim'],
    journalledExt4: values['journalled-ext4'],
    probePeriodSeconds,
    podChurnPeriodSeconds,
  };
  const over = values['cpu-profile-over'];
  if (over !== undefined) {
    options.cpuProfileOverMs = parseProfileThreshold(over);
    if (options.cpuProfileOverMs === undefined)
      throw new SoakArgumentError(`--cpu-profile-over ${over}: a whole number of milliseconds, at least 1`);
  }
  const asked = values['heap-snapshots'];
  if (asked === undefined) return options;
  const heapSnapshots = parseSnapshotMinutes(asked, minutes);
  if (!heapSnapshots)
    throw new SoakArgumentError(
      `--heap-snapshots ${asked}: two or more whole minutes between 1 and ${minutes}, ascending, comma-separated`,
    );
  return { ...options, heapSnapshots };
}

/** The API server's restarts: the flag's minutes, each before the last, or N/3 and 2N/3. */
function restartMinutes(value: string | undefined, minutes: number): number[] {
  if (value === undefined) return [minutes / 3, (2 * minutes) / 3].map((m) => Math.round(m));
  const list = parseMinuteList(value, 1, minutes - 1);
  if (!list)
    throw new SoakArgumentError(
      `--api-server-restarts ${value}: one or more whole minutes between 1 and ${minutes - 1}, ascending, comma-separated`,
    );
  return list;
}

/** A period flag's value: a whole number of seconds, at least 1, or the flag's error. */
function wholeSeconds(flag: string, value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new SoakArgumentError(`--${flag} ${value}: a whole number of seconds, at least 1`);
  return seconds;
}

/** node:util's parse, its own errors (an unknown flag, a missing value) turned into ours. */
function parseFlags(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        minutes: { type: 'string', default: '60' },
        agent: { type: 'string', default: 'both' },
        'api-server-restarts': { type: 'string' },
        'heap-snapshots': { type: 'string' },
        'cpu-profile-over': { type: 'string' },
        'trace-gc': { type: 'boolean', default: false },
        'trace-opt': { type: 'boolean', default: false },
        'trace-malloc-trim': { type: 'boolean', default: false },
        'journalled-ext4': { type: 'boolean', default: false },
        'probe-period': { type: 'string', default: '10' },
        'pod-churn-period': { type: 'string', default: '2' },
      },
    }).values;
  } catch (error) {
    throw new SoakArgumentError((error as Error).message);
  }
}
