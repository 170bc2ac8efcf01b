import type { Clock } from '@nodeagent/primitives';
import { unrefTimer } from '../clock-timers';
import {
  ensureProcessInCgroupWithOomScore,
  type ProcessCgroupLogger,
  type ProcessCgroupOptions,
  processCgroupName,
} from './kubelet-process-cgroup';
import { ensureSystemCgroups } from './system-cgroups';

/** upstream's setupNode refuses systemCgroups "/": the kubelet stops (Failed to start ContainerManager). */
export const systemCgroupsRootMessage = 'system container cannot be root ("/")';

/** How often the system containers are ensured again (upstream: every minute). */
export const ensureStatePeriodMs = 60_000;

/** How often the kubelet's oom_score_adj is set again when no kubeletCgroups is given (upstream: 5 minutes). */
export const kubeletOomScorePeriodMs = 5 * 60_000;

/** What the container manager's system containers need; `logger.error` is klog's Error. */
export interface SystemContainersOptions extends ProcessCgroupOptions {
  logger: ProcessCgroupLogger & {
    /** klog's Error: the kubelet's own process could not be put in its cgroup or found there. */
    error(obj: object, msg?: string): void;
  };
  kubeletCgroups: string;
  systemCgroups: string;
  oomScoreAdj: number;
  /** The kubelet's own pid. */
  pid: number;
  clock: Clock;
}

/**
 * wait.Until: `fn` at once, then `periodMs` after each run ends, until stopped. `fn` never
 * throws (it logs). The timers do not keep the process alive.
 */
function until(clock: Clock, periodMs: number, fn: () => Promise<void>): () => void {
  let stopped = false;
  let handle: unknown;
  const round = async () => {
    if (stopped) return;
    await fn();
    if (stopped) return;
    handle = clock.setTimeout(() => void round(), periodMs);
    unrefTimer(handle);
  };
  void round();
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}

/** One named ensure function, as upstream's systemContainer.ensureStateFunc. */
interface SystemContainer {
  name: string;
  ensure: () => Promise<void>;
}

function systemContainers(options: SystemContainersOptions): SystemContainer[] {
  const containers: SystemContainer[] = [];
  if (options.systemCgroups !== '') {
    if (options.systemCgroups === '/') throw new Error(systemCgroupsRootMessage);
    containers.push({
      name: options.systemCgroups,
      ensure: () => ensureSystemCgroups(options, options.systemCgroups),
    });
  }
  if (options.kubeletCgroups !== '')
    containers.push({
      name: options.kubeletCgroups,
      ensure: () =>
        ensureProcessInCgroupWithOomScore(options, options.pid, options.oomScoreAdj, options.kubeletCgroups),
    });
  return containers;
}

/** Without kubeletCgroups: the kubelet's oom_score_adj set again and its cgroup looked up, failures logged. */
async function kubeletOomScoreTask(options: SystemContainersOptions): Promise<void> {
  try {
    await ensureProcessInCgroupWithOomScore(options, options.pid, options.oomScoreAdj, undefined);
  } catch (error) {
    options.logger.error(
      { err: (error as Error).message },
      'Failed to ensure process in container with oom score',
    );
    return;
  }
  await processCgroupName(options, options.pid).catch((error: Error) =>
    options.logger.error({ err: error.message }, 'Failed to find cgroups of kubelet'),
  );
}

/**
 * upstream's container manager for systemCgroups and kubeletCgroups (setupNode, then Start's
 * loops): the system processes and the kubelet moved into their cgroups now and every minute,
 * each failure logged ("Failed to ensure state") and retried; with no kubeletCgroups, the
 * kubelet's oom_score_adj re-applied every 5 minutes. Throws, before anything runs, for
 * systemCgroups "/". Returns the stop of the loops.
 */
export function startSystemContainers(options: SystemContainersOptions): () => void {
  const containers = systemContainers(options);
  const stops: (() => void)[] = [];
  if (containers.length > 0)
    stops.push(
      until(options.clock, ensureStatePeriodMs, async () => {
        for (const container of containers)
          await container
            .ensure()
            .catch((error: Error) =>
              options.logger.info(
                { containerName: container.name, err: error.message },
                'Failed to ensure state',
              ),
            );
      }),
    );
  if (options.kubeletCgroups === '')
    stops.push(until(options.clock, kubeletOomScorePeriodMs, () => kubeletOomScoreTask(options)));
  return () => {
    for (const stop of stops) stop();
  };
}
