import { parseDuration } from '@nodeagent/primitives';
import type { Pod } from '../api/pod-types';
import { systemCriticalPriority } from '../cri/critical-pod';

/** One entry of shutdownGracePeriodByPodPriority: pods from `priority` up get this many seconds. */
export interface ShutdownGracePeriodByPriority {
  priority: number;
  shutdownGracePeriodSeconds: number;
}

/** One priority range at shutdown: its grace period and the pods that fall in it. */
export interface PodShutdownGroup extends ShutdownGracePeriodByPriority {
  pods: Pod[];
}

/** The three KubeletConfiguration fields the node shutdown manager reads. */
export interface ShutdownGracePeriodFields {
  shutdownGracePeriod: string;
  shutdownGracePeriodCriticalPods: string;
  shutdownGracePeriodByPodPriority?: readonly ShutdownGracePeriodByPriority[] | undefined;
}

// Upstream scheduling.DefaultPriorityWhenNoDefaultClassExists.
const defaultPriority = 0;

/**
 * Upstream newPodManager: the priority list when given (the gate GracefulNodeShutdownBasedOnPodPriority
 * is on by default), else the two durations turned into two groups (ordinary pods get the period
 * minus the critical pods' share; system-critical pods the share). Sorted low to high; empty
 * means the feature is off. Sub-second parts are dropped, as upstream's integer seconds do.
 */
export function shutdownGracePeriods(fields: ShutdownGracePeriodFields): ShutdownGracePeriodByPriority[] {
  const byPriority = fields.shutdownGracePeriodByPodPriority ?? [];
  const periods = byPriority.length > 0 ? [...byPriority] : migrated(fields);
  return periods.sort((a, b) => a.priority - b.priority);
}

function migrated(fields: ShutdownGracePeriodFields): ShutdownGracePeriodByPriority[] {
  const total = parseDuration(fields.shutdownGracePeriod);
  const critical = parseDuration(fields.shutdownGracePeriodCriticalPods);
  if (total === 0 || total - critical < 0) return [];
  return [
    { priority: defaultPriority, shutdownGracePeriodSeconds: Math.trunc((total - critical) / 1000) },
    { priority: systemCriticalPriority, shutdownGracePeriodSeconds: Math.trunc(critical / 1000) },
  ];
}

/** Upstream periodRequested: the sum of the groups' periods, what logind's InhibitDelayMaxUSec must cover. */
export function periodRequestedMs(periods: readonly ShutdownGracePeriodByPriority[]): number {
  return periods.reduce((sum, p) => sum + p.shutdownGracePeriodSeconds, 0) * 1000;
}

/**
 * Upstream groupByPriority: each pod goes to the group whose priority is at most its own and
 * closest to it (with equal priorities: the first for an exact match, the last otherwise, as
 * upstream's sort.Search does); pods below the lowest group go to the lowest. A pod without
 * spec.priority counts as 0. `periods` must be sorted low to high.
 */
export function groupByPriority(
  periods: readonly ShutdownGracePeriodByPriority[],
  pods: readonly Pod[],
): PodShutdownGroup[] {
  const groups = periods.map((p): PodShutdownGroup => ({ ...p, pods: [] }));
  for (const pod of pods) {
    const priority = pod.spec.priority ?? 0;
    // The first group at or above the pod's priority; one below it unless it is an exact match.
    let index = groups.findIndex((g) => g.priority >= priority);
    if (index === -1) index = groups.length - 1;
    else if (index > 0 && groups[index]!.priority > priority) index--;
    groups[index]?.pods.push(pod);
  }
  return groups;
}
