// The conditions part of upstream generateAPIPodStatus: the conditions the kubelet owns, in
// upstream's order after the ones others own, each keeping its lastTransitionTime while its
// status stays the same.

import {
  type ContainerStatus,
  isSidecar,
  type Pod,
  type PodCondition,
  type PodPhase,
} from '../api/pod-types';
import { allContainersCouldRestart } from '../pod/restart-all-containers';
import { rfc3339 } from '../rfc3339';
import { allContainersRestartingCondition } from './restart-all-status';

/** Conditions the kubelet owns (upstream kubetypes.PodConditionByKubelet). */
export const KUBELET_CONDITIONS: ReadonlySet<string> = new Set([
  'PodScheduled',
  'Ready',
  'Initialized',
  'ContainersReady',
  'PodReadyToStartContainers',
  // In-place resize (PodResizer adds them to each status it reports).
  'PodResizePending',
  'PodResizeInProgress',
  // RestartAllContainers (KEP-5532).
  'AllContainersRestarting',
]);

/** What the kubelet's conditions are derived from: the container statuses and phase just generated. */
export interface PodConditionFacts {
  /** The phase the new status reports. */
  phase: PodPhase;
  /** Every init container is done (or a main container was already created). */
  initialized: boolean;
  /** The pod's sandbox is ready (PodReadyToStartContainers). */
  sandboxReady: boolean;
  /** Init container statuses, in spec order. */
  initStatuses: ContainerStatus[];
  /** Regular container statuses. */
  statuses: ContainerStatus[];
  /** Now, in ms since the epoch (the transition time of a condition whose status changed). */
  now: number;
  /** This sync removed every container for a RestartAllContainers rule (KEP-5532). */
  restartingAllContainers: boolean;
}

/** Upstream CalculatePodStatusObservedGeneration: the pod's generation, when it has one. */
export function observedGeneration(pod: Pod): { observedGeneration?: number } {
  const generation = pod.metadata.generation;
  return generation === undefined ? {} : { observedGeneration: generation };
}

/** The pod's conditions for a new status: the previous ones others own, then the kubelet's. */
export function podConditions(pod: Pod, facts: PodConditionFacts): PodCondition[] {
  const previous = pod.status?.conditions;
  // Conditions owned by others (readiness gates, DisruptionTarget) come first, as upstream's
  // status manager merges them; then the kubelet's in upstream's order.
  const conditions: PodCondition[] = (previous ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type));
  const keep = (condition: PodCondition) =>
    conditions.push({
      ...withTransitionTime(condition, previous, facts.now),
      ...observedGeneration(pod),
    });
  keep({ type: 'PodReadyToStartContainers', status: facts.sandboxReady ? 'True' : 'False' });
  keep(initializedCondition(pod, facts));
  for (const condition of readyConditions(pod, facts)) keep(condition);
  // A pod the kubelet runs is scheduled: the scheduler's condition (and its time) is kept, or added.
  keep({ type: 'PodScheduled', status: 'True' });
  // Upstream writes it without observedGeneration.
  if (allContainersCouldRestart(pod))
    conditions.push(
      withTransitionTime(
        allContainersRestartingCondition(facts.phase, facts.restartingAllContainers),
        previous,
        facts.now,
      ),
    );
  return conditions;
}

/** Upstream GeneratePodInitializedCondition. */
function initializedCondition(pod: Pod, facts: PodConditionFacts): PodCondition {
  // A completed pod reports PodCompleted.
  if (facts.phase === 'Succeeded') return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  // Once initialized, a pod stays so while its init containers run again (upstream, with
  // RestartAllContainersOnContainerExits on).
  if (
    facts.initialized ||
    pod.status?.conditions?.some((c) => c.type === 'Initialized' && c.status === 'True')
  )
    return { type: 'Initialized', status: 'True' };
  const initContainers = pod.spec.initContainers ?? [];
  const pendingInit = facts.initStatuses
    .filter((s, i) => (isSidecar(initContainers[i]!) ? !s.started : s.state.terminated?.exitCode !== 0))
    .map((s) => s.name);
  return {
    type: 'Initialized',
    status: 'False',
    reason: 'ContainersNotInitialized',
    message: `containers with incomplete status: [${pendingInit.join(' ')}]`,
  };
}

/** Upstream GeneratePodReadyCondition and GenerateContainersReadyCondition: Ready, then ContainersReady. */
function readyConditions(pod: Pod, facts: PodConditionFacts): [PodCondition, PodCondition] {
  const { phase } = facts;
  if (phase === 'Succeeded' || phase === 'Failed') {
    // Upstream generate*ConditionForTerminalPhase: PodCompleted or PodFailed.
    const reason = phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
    return [
      { type: 'Ready', status: 'False', reason },
      { type: 'ContainersReady', status: 'False', reason },
    ];
  }
  const initContainers = pod.spec.initContainers ?? [];
  const unready = [
    ...facts.initStatuses.filter((s, i) => isSidecar(initContainers[i]!) && !s.ready).map((s) => s.name),
    ...facts.statuses.filter((s) => !s.ready).map((s) => s.name),
  ];
  if (unready.length > 0) {
    const message = `containers with unready status: [${unready.join(' ')}]`;
    return [
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message },
      { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message },
    ];
  }
  const readinessGates = (pod.spec.readinessGates ?? []).map((gate) => gate.conditionType);
  const unmetGates = readinessGates.filter(
    (type) => pod.status?.conditions?.find((c) => c.type === type)?.status !== 'True',
  );
  const ready: PodCondition =
    unmetGates.length > 0
      ? {
          type: 'Ready',
          status: 'False',
          reason: 'ReadinessGatesNotReady',
          message: `corresponding condition of pod readiness gate "${unmetGates[0]}" does not exist.`,
        }
      : { type: 'Ready', status: 'True' };
  return [ready, { type: 'ContainersReady', status: 'True' }];
}

function withTransitionTime(
  condition: PodCondition,
  previous: PodCondition[] | undefined,
  now: number,
): PodCondition {
  const old = previous?.find((c) => c.type === condition.type);
  const lastTransitionTime =
    old && old.status === condition.status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now);
  return {
    type: condition.type,
    status: condition.status,
    lastProbeTime: null,
    lastTransitionTime,
    ...reasonAndMessage(condition),
  };
}

function reasonAndMessage(condition: PodCondition): Partial<PodCondition> {
  const out: Partial<PodCondition> = {};
  if (condition.reason) out.reason = condition.reason;
  if (condition.message) out.message = condition.message;
  return out;
}
