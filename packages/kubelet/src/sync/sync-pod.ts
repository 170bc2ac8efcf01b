import type { Clock } from '@nodeagent/primitives';
import { recordAdmissionRejection } from '../admission/admission-rejections';
import { podRejectedPrefix } from '../admission/admit-handler';
import { podName } from '../api/pod-name';
import type { Container, Pod, PodStatus } from '../api/pod-types';
import type { PodRuntime } from '../cri/pod-runtime';
import { findContainer, hasReadySandbox, type PodRuntimeStatus } from '../cri/runtime-state';
import type { DeviceHealthStatus } from '../devicemanager/device-manager';
import type { PodEventRecorder } from '../events/event-reasons';
import type { KubeletLogger } from '../kubelet-logger';
import type { KubeletMetrics } from '../metrics';
import { activeDeadlineRemainingMs, applyActiveDeadline } from '../pod/active-deadline';
import { validatePod } from '../pod/validate-pod';
import type { PodProber } from '../probes/pod-prober';
import { lastKnownContainer } from '../probes/readiness-after-restart';
import { withReadinessAsNow } from '../status/container-probe-status';
import {
  type ContainerWaitingReason,
  generatePodStatus,
  rejectedPodStatus,
} from '../status/generate-pod-status';
import { isTerminalPhase } from '../status/pod-phase';
import type { StatusManager } from '../status/status-manager';
import type { SyncPodResult } from '../workers/pod-workers';
import { garbageCollectPod } from './container-gc';
import { killForResize, type PodResizer } from './pod-resizer';
import type { PodRuntimeView } from './pod-runtime-view';
import { observePodStart } from './pod-start-sli';
import type { PodRejection, PodStartTimes, PodStateReader } from './pod-state-store';
import type { PodSyncer, SyncOutcome } from './pod-syncer';
import { reportedWaitingReasons, withRecordedBackOffs } from './reason-cache';

/** What the one pod sync reads and reports to; the Kubelet that dispatches syncs provides it. */
export interface PodSyncContext {
  /** Acts on the runtime: computePodActions and its steps (kill, sandbox, init, containers). */
  syncer: PodSyncer;
  runtime: PodRuntime;
  statuses: StatusManager;
  prober: PodProber;
  metrics: KubeletMetrics;
  clock: Clock;
  logger: KubeletLogger;
  hostIPs: string[];
  /** The kubelet's pod state: admission's refusal of a pod (upstream rejectPod), its first-seen time. */
  pods: PodStateReader & PodStartTimes;
  /**
   * The pods' runtime state as the PLEG cache holds it (a pod's last sync read it back, or a
   * later relist saw it), read again for one pod after acting; the running gauges counted from it.
   */
  runtimeView: PodRuntimeView;
  /** Probe verdicts from outside (tests); default: the prober's. */
  probeResults?: {
    readiness?: (containerId: string, container: Container) => boolean;
    startup?: (containerId: string, container: Container) => boolean;
  };
  runtimeType?: string;
  /** Delay before a failed sync runs again (default 10 s). */
  retryMs?: number;
  recordEvent?: PodEventRecorder;
  /** The devices' health for containerStatuses[].allocatedResourcesStatus (ResourceHealthStatus gate). */
  deviceHealth?: DeviceHealthStatus;
  /**
   * In-place resize (allocation, actuation, the resize parts of the status); without it the pod
   * runs with its spec's resources as they are.
   */
  resizer?: PodResizer;
}

/**
 * The one sync of a running pod (upstream Kubelet.SyncPod; the pod worker calls it for every
 * create, update and resync): a refused or invalid pod gets its Failed status and stops here;
 * otherwise the runtime is brought in line with the spec (PodSyncer.applyPodActions, upstream's
 * kuberuntime SyncPod steps), this pod's dead containers are collected, the probes learn the
 * new state, and the generated status goes to the status manager. The result tells the worker
 * whether the pod is done and when to sync again (backoff end, error retry, active deadline).
 */
export async function syncPod(context: PodSyncContext, pod: Pod, updateType: string): Promise<SyncPodResult> {
  const { clock, statuses } = context;
  const timer = context.metrics.podWorkerDuration.startTimer({ operation_type: updateType });
  try {
    const rejection = context.pods.rejection(pod.metadata.uid ?? '');
    if (rejection) return rejectPod(context, pod, rejection);
    const errors = validatePod(pod);
    if (errors.length > 0) {
      const message = errors.map((error) => error.message).join('; ');
      statuses.setPodStatus(
        pod,
        rejectedPodStatus(statuses.withLastStatus(pod), 'InvalidPodSpec', message, clock.now()),
      );
      context.logger.warn({ pod: podName(pod) }, `Pod rejected: ${message}`);
      return { terminal: true };
    }
    const current = statuses.withLastStatus(pod);
    if (isTerminalPhase(current.status?.phase)) return { terminal: true };
    const firstSync = statuses.getPodStatus(pod.metadata.uid ?? '') === undefined;
    const recorded = (name: string) => context.syncer.reasons.get(pod.metadata.uid ?? '', name);
    // In-place resize: the pod runs with the resources allocated to it (a resize the node has no
    // room for yet stays pending); running containers get them before anything starts.
    const allocated = context.resizer ? await context.resizer.allocate(current) : current;
    // A new pod's allocation is still being written: the sandbox need not wait, its containers do.
    const allocationWritten = context.resizer?.allocationWritten(pod.metadata.uid ?? '');
    // After acting, only this pod is read again: its status goes out as soon as its containers
    // started instead of after the next relist of every pod.
    let before = await context.runtimeView.status(pod);
    // Upstream checks the active deadline before acting: a pod past it starts nothing more.
    const pastDeadline =
      (activeDeadlineRemainingMs(current, current.status?.startTime, clock.now()) ?? 1) <= 0;
    // Upstream writes the status before acting. Generated anew for a pod's first sync and for a
    // pod without a ready sandbox (one is created: slow, or failing); otherwise the last status,
    // where a container whose back-off an earlier sync met reads waiting CrashLoopBackOff while
    // this sync (at the back-off's end) restarts it.
    const beforeActing =
      (firstSync || !hasReadySandbox(before)) && !pastDeadline
        ? await statusBeforeActing(context, current, allocated, before, firstSync ? undefined : recorded)
        : current.status && withRecordedBackOffs(current.status, recorded);
    if (beforeActing) statuses.setPodStatus(pod, beforeActing);
    const killedForResize =
      !pastDeadline &&
      context.resizer !== undefined &&
      (await context.resizer.actuate(
        allocated,
        before,
        killForResize(context.syncer, () => sandboxIP(before)),
      ));
    if (killedForResize) before = await context.runtimeView.refresh(pod);
    const outcome: SyncOutcome = pastDeadline
      ? { waitingReasons: new Map(), changedRuntime: false }
      : await context.syncer.applyPodActions(allocated, before, allocationWritten);
    // A failed write fails this sync, also one that stopped before its containers.
    await allocationWritten;
    // Upstream's SyncPod rejects a pod whose volume wait ended on an exhausted attach limit.
    if (outcome.rejection) {
      recordAdmissionRejection(context.metrics.admissionRejections, outcome.rejection.reason);
      return rejectPod(context, pod, outcome.rejection);
    }
    let runtimeStatus = await readBack(context, pod, before, outcome, killedForResize);
    // Container GC for this pod: dead instances beyond the newest one, dead old sandboxes.
    if ((await garbageCollectPod(context.runtime, runtimeStatus)) > 0)
      runtimeStatus = await context.runtimeView.refresh(pod);
    context.runtimeView.recountRunning();
    const sandbox = runtimeStatus.sandboxes[0];
    const podIP = sandbox?.ready ? (sandbox.hostNetwork ? context.hostIPs[0] : sandbox.ips[0]) : undefined;
    context.prober.update(allocated, runtimeStatus, podIP);
    const { ready, started: startedVerdict } = probeVerdicts(context, current, runtimeStatus);
    // CrashLoopBackOff as upstream reports it: only once an earlier sync met the back-off too.
    const uid = pod.metadata.uid ?? '';
    const reasons = context.syncer.reasons;
    const started = outcome.started ?? new Set<string>();
    const waitingReasons = reportedWaitingReasons(
      outcome.waitingReasons,
      (name) => reasons.get(uid, name),
      started,
      [...(allocated.spec.initContainers ?? []), ...allocated.spec.containers].map((c) => c.name),
    );
    reasons.update(uid, outcome.waitingReasons, started);
    const generated = generatePodStatus(allocated, runtimeStatus, {
      now: clock.now(),
      hostIPs: context.hostIPs,
      waitingReasons,
      ready,
      started: startedVerdict,
      runtimeType: context.runtimeType,
      restartingAllContainers: outcome.restartingAllContainers,
    });
    await context.resizer?.report(current, allocated, runtimeStatus, generated);
    withDeviceHealth(context, allocated, generated);
    // A first readiness probe that answered while the resize state was saved: its verdict goes
    // out in this status (the write the status manager holds for it), not after another sync.
    const specs = new Map(
      [...(allocated.spec.initContainers ?? []), ...allocated.spec.containers].map((c) => [c.name, c]),
    );
    const status = withReadinessAsNow(
      allocated,
      generated,
      (id, name) => {
        const container = specs.get(name);
        return container ? ready(id, container) : undefined;
      },
      clock.now(),
    );
    // The pod start SLIs are observed from the status generated.
    observePodStart(context.pods, context.metrics, clock, current, status);
    // Past spec.activeDeadlineSeconds (as it is now: it may have been updated) the pod fails.
    applyActiveDeadline(current, status, clock.now());
    statuses.setPodStatus(pod, status);
    // A failed sync is retried after the retry delay, or sooner when a back-off (a volume's
    // mount) ends first; never at once, so a failure that repeats cannot spin.
    const failedRetryMs = context.retryMs ?? 10_000;
    let retryAfterMs = outcome.error
      ? Math.min(failedRetryMs, (outcome.retryAfterMs ?? 0) > 0 ? outcome.retryAfterMs! : failedRetryMs)
      : outcome.retryAfterMs;
    // Sync again when the deadline comes (upstream's sync loop asks the deadline handler every second).
    const deadlineMs = activeDeadlineRemainingMs(current, status.startTime, clock.now());
    if (deadlineMs !== undefined && deadlineMs > 0)
      retryAfterMs = Math.min(retryAfterMs ?? Number.POSITIVE_INFINITY, deadlineMs);
    return { terminal: isTerminalPhase(status.phase), retryAfterMs };
  } finally {
    timer();
  }
}

/**
 * Upstream rejectPod: the pod fails with the reason, its status message prefixed `Pod was
 * rejected: `, and a Warning event with the message (once: a pod already Failed posts none).
 */
function rejectPod(context: PodSyncContext, pod: Pod, rejection: PodRejection): SyncPodResult {
  const { statuses, clock } = context;
  const alreadyFailed = statuses.getPodStatus(pod.metadata.uid ?? '')?.phase === 'Failed';
  statuses.setPodStatus(
    pod,
    rejectedPodStatus(
      statuses.withLastStatus(pod),
      rejection.reason,
      podRejectedPrefix + rejection.message,
      clock.now(),
    ),
  );
  if (!alreadyFailed) {
    context.logger.warn({ pod: podName(pod), reason: rejection.reason }, rejection.message);
    context.recordEvent?.(pod, 'Warning', rejection.reason, rejection.message);
  }
  return { terminal: true };
}

/**
 * The pod's runtime state after acting. Upstream's SyncPod asks the PLEG to relist the pod after
 * a sync whose actions all succeeded (no step failed, no container left waiting) and only then
 * (PodRuntimeView.relistAfterSync: the PLEGOnDemandRelist gate decides); a sync where a step
 * failed reads its pod back only for the status it reports (upstream reports that state at its
 * next sync); a sync that did nothing keeps the state it started from.
 */
function readBack(
  context: PodSyncContext,
  pod: Pod,
  before: PodRuntimeStatus,
  outcome: SyncOutcome,
  killedForResize: boolean,
): Promise<PodRuntimeStatus> {
  if (!outcome.changedRuntime && !killedForResize) return Promise.resolve(before);
  if (!outcome.error && outcome.waitingReasons.size === 0)
    return context.runtimeView.relistAfterSync(pod, before);
  return context.runtimeView.refresh(pod);
}

/** The pod's IP on its ready sandbox (a preStop httpGet of a container killed for its resize). */
function sandboxIP(status: PodRuntimeStatus): string | undefined {
  const sandbox = status.sandboxes[0];
  return sandbox?.ready ? sandbox.ips[0] : undefined;
}

/**
 * The status upstream's SyncPod hands the status manager before it acts (generateAPIPodStatus
 * from the runtime state the sync starts from, then SetPodStatus, ahead of creating the sandbox):
 * for a new pod, Pending with PodScheduled, Initialized (or not, with init containers),
 * PodReadyToStartContainers, Ready and ContainersReady as their state is, and each container
 * waiting ContainerCreating (PodInitializing behind init containers); for a pod whose sandbox
 * died, PodReadyToStartContainers False and its containers as they ended. It goes out while the
 * sandbox is being created, so a pod whose sandbox is slow or fails shows it meanwhile. `pod` is
 * the pod as allocated, with the status last known (start time, transition times kept);
 * `desired` as the API gave it (the resize part of the status: the pod-level `resources`).
 * `recorded`: after an earlier sync, its back-offs and, as upstream's reasonCache keeps them,
 * the waiting reasons it reported for containers not running since.
 */
async function statusBeforeActing(
  context: PodSyncContext,
  desired: Pod,
  pod: Pod,
  runtimeStatus: PodRuntimeStatus,
  recorded?: (container: string) => ContainerWaitingReason | undefined,
): Promise<PodStatus> {
  const status = generatePodStatus(pod, runtimeStatus, {
    now: context.clock.now(),
    hostIPs: context.hostIPs,
    waitingReasons: recorded && earlierWaitingReasons(pod, runtimeStatus, recorded),
    ...probeVerdicts(context, pod, runtimeStatus),
    runtimeType: context.runtimeType,
  });
  await context.resizer?.report(desired, pod, runtimeStatus, status);
  withDeviceHealth(context, pod, status);
  return status;
}

/** Upstream generateAPIPodStatus's UpdateAllocatedResourcesStatus: each container's devices and their health. */
function withDeviceHealth(context: PodSyncContext, pod: Pod, status: PodStatus): void {
  const health = context.deviceHealth;
  if (!health) return;
  for (const container of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
    const resources = health.allocatedResourcesStatus(pod.metadata.uid ?? '', container.name);
    if (resources) container.allocatedResourcesStatus = resources;
  }
}

/**
 * The readiness and startup verdicts a status is generated with: the injected probe results, else
 * the prober's, each for the container instance last known in `pod`'s status.
 */
function probeVerdicts(context: PodSyncContext, pod: Pod, runtimeStatus: PodRuntimeStatus) {
  const last = (id: string) => lastKnownContainer(pod, runtimeStatus, id);
  return {
    ready:
      context.probeResults?.readiness ??
      ((id: string, container: Container) => context.prober.ready(id, container, last(id))),
    started:
      context.probeResults?.startup ??
      ((id: string, container: Container) => context.prober.started(id, container, last(id))),
  };
}

/** The waiting reasons of a container not yet created, which no sync's result leaves behind. */
const CREATING_REASONS: ReadonlySet<string> = new Set(['ContainerCreating', 'PodInitializing']);

/** The reasons an earlier sync left for containers that have not run since (none running now). */
function earlierWaitingReasons(
  pod: Pod,
  runtimeStatus: PodRuntimeStatus,
  recorded: (container: string) => ContainerWaitingReason | undefined,
): Map<string, ContainerWaitingReason> {
  const reasons = new Map<string, ContainerWaitingReason>();
  for (const status of [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ]) {
    const newest = findContainer(runtimeStatus, status.name);
    if (newest && newest.state !== 'exited') continue;
    const waiting = status.state.waiting;
    const reason =
      recorded(status.name) ??
      (waiting?.reason && !CREATING_REASONS.has(waiting.reason)
        ? { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) }
        : undefined);
    if (reason) reasons.set(status.name, reason);
  }
  return reasons;
}
