import type { ContainerStatus, PodCondition, PodPhase } from '../api/pod-types';
import { allContainersRestartingType as conditionType } from '../pod/restart-all-containers';
import { restartingAllContainersReason } from './pod-phase';

/** Upstream's message on a container removed by a RestartAllContainers restart. */
export const restartingAllContainersMessage =
  'The container is removed because RestartAllContainers in place';

/**
 * Upstream GenerateAllContainersRestartingCondition, for a pod with a RestartAllContainers rule:
 * False with PodCompleted/PodFailed once the pod is done, True (RestartAllContainersStarted)
 * while its containers are being removed, False otherwise. Upstream sets no observedGeneration.
 */
export function allContainersRestartingCondition(phase: PodPhase, restarting: boolean): PodCondition {
  if (phase === 'Succeeded') return { type: conditionType, status: 'False', reason: 'PodCompleted' };
  if (phase === 'Failed') return { type: conditionType, status: 'False', reason: 'PodFailed' };
  if (!restarting) return { type: conditionType, status: 'False' };
  return {
    type: conditionType,
    status: 'True',
    reason: 'RestartAllContainersStarted',
    message: 'container exited with restart policy rule',
  };
}

/**
 * Upstream convertToAPIContainerStatuses for a container RestartAllContainers removed: waiting
 * RestartingAllContainers, its last state a terminated 137 without times or container ID, one
 * restart more than the status it had. `status` is the fresh one (name, image, mounts).
 */
export function restartedContainerStatus(
  status: ContainerStatus,
  previous: ContainerStatus,
): ContainerStatus {
  const reason = restartingAllContainersReason;
  const message = restartingAllContainersMessage;
  return {
    ...status,
    state: { waiting: { reason, message } },
    lastState: { terminated: { exitCode: 137, reason, message, startedAt: null, finishedAt: null } },
    restartCount: previous.restartCount + 1,
  };
}
