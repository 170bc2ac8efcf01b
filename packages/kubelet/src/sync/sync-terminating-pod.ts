import type { Clock } from '@nodeagent/primitives';
import type { Pod, PodStatus } from '../api/pod-types';
import { isAnythingRunning } from '../cri/runtime-state';
import type { DraManager } from '../dra/dra-manager';
import { applyActiveDeadline } from '../pod/active-deadline';
import type { PodProber } from '../probes/pod-prober';
import { rfc3339 } from '../rfc3339';
import { generatePodStatus, isRejectedPodStatus } from '../status/generate-pod-status';
import { isTerminalPhase } from '../status/pod-phase';
import type { StatusManager } from '../status/status-manager';
import type { PodResizer } from './pod-resizer';
import type { PodRuntimeView } from './pod-runtime-view';
import type { PodStateReader, PodStopReason } from './pod-state-store';
import type { PodSyncer } from './pod-syncer';

/**
 * What gives a stopped pod's node resources back (the kubelet's housekeeping: its pod cgroup);
 * asked again at cleanup, when a cgroup that still held the sandbox may be empty.
 */
export interface PodResourceReclaimer {
  podStopped(uid: string): Promise<void>;
}

/** What stopping a pod acts through and reads; the Kubelet that dispatches syncs provides it. */
export interface PodTerminationContext {
  syncer: PodSyncer;
  statuses: StatusManager;
  prober: PodProber;
  runtimeView: PodRuntimeView;
  /** The kubelet's pod state: whether the eviction manager stopped the pod, and why. */
  pods: PodStateReader;
  reclaimer: PodResourceReclaimer;
  /** A stopped pod holds no resources: a deferred resize may fit now. */
  resizer: PodResizer;
  clock: Clock;
  hostIPs: string[];
  runtimeType?: string;
  /** The DRA manager: the pod's ResourceClaims are unprepared once its containers have stopped. */
  dynamicResources?: Pick<DraManager, 'unprepareResources'>;
}

/**
 * Upstream syncTerminatingPod: the pod's probes stop, its containers and sandbox are killed
 * (with the grace period given, e.g. an eviction's), and its final status is generated from the
 * stopped runtime state: Succeeded only if every container exited 0, Failed otherwise, Failed
 * with the eviction's reason for an evicted pod; a refused pod keeps its refusal.
 */
export async function syncTerminatingPod(
  context: PodTerminationContext,
  pod: Pod,
  gracePeriodSeconds: number | undefined,
): Promise<void> {
  const { runtimeView, syncer, statuses, clock } = context;
  const uid = pod.metadata.uid ?? '';
  context.prober.removePod(uid);
  // Upstream kills from the pod cache (the worker's status newer than the pod's last sync), not
  // from a fresh read: the cache holds what this pod's own syncs started, read back after they
  // started it. A read first cost every deleted pod a ListPodSandbox and ListContainers before
  // its StopContainer, on a runtime busy stopping the other pods.
  const cached = runtimeView.cached(uid);
  await syncer.killPod(pod, cached ?? (await runtimeView.refresh(pod)), gracePeriodSeconds);
  let stopped = await runtimeView.refresh(pod);
  // Something the cache missed (a sync that failed before its read-back) is stopped now.
  if (cached && isAnythingRunning(stopped)) {
    await syncer.killPod(pod, stopped, gracePeriodSeconds);
    stopped = await runtimeView.refresh(pod);
  }
  runtimeView.recountRunning();
  // Upstream: after every container stopped and before the final status goes to the API server
  // (which lets the claims be deallocated); a failure fails this sync, which is retried.
  await context.dynamicResources?.unprepareResources(pod);
  const current = statuses.withLastStatus(pod);
  // A refused pod never ran: its status stays the refusal (upstream rejectPod), without the
  // waiting ContainerCreating statuses and conditions a regenerated one would add.
  if (isRejectedPodStatus(current.status)) {
    await context.reclaimer.podStopped(uid);
    return;
  }
  const status = generatePodStatus(current, stopped, {
    now: clock.now(),
    hostIPs: context.hostIPs,
    ready: () => false,
    runtimeType: context.runtimeType,
  });
  if (!isTerminalPhase(status.phase)) {
    // Upstream: a stopped pod ends Succeeded only if every container exited 0.
    const allSucceeded = (status.containerStatuses ?? []).every((c) => c.state.terminated?.exitCode === 0);
    status.phase = allSucceeded ? 'Succeeded' : 'Failed';
  }
  applyActiveDeadline(current, status, clock.now());
  const eviction = context.pods.eviction(uid);
  if (eviction) applyEviction(status, eviction, clock.now());
  statuses.setPodStatus(pod, status);
  await context.reclaimer.podStopped(uid);
  context.resizer.retryDeferred();
}

/**
 * An evicted pod's final status: Failed with the eviction's reason, and DisruptionTarget True
 * unless the eviction asked for none.
 */
function applyEviction(status: PodStatus, eviction: PodStopReason, now: number): void {
  status.phase = 'Failed';
  status.reason = eviction.reason;
  status.message = eviction.message;
  if (eviction.disruptionTarget === false) return;
  status.conditions = [
    ...(status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
    {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'TerminationByKubelet',
      message: eviction.message,
      lastTransitionTime: rfc3339(now),
    },
  ];
}
