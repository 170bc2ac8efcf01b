import { type Container, type ContainerStatus, isSidecar, type Pod, type PodPhase } from '../api/pod-types';
import { containerShouldRestart } from '../pod/container-restart-rules';

/** The waiting reason of a container removed to restart all containers in place (KEP-5532). */
export const restartingAllContainersReason = 'RestartingAllContainers';

/**
 * Whether a stopped status is one a RestartAllContainers restart removed (upstream getPhase reads
 * the reason of the termination: 137 RestartingAllContainers): it runs again, whatever the
 * restart policies say.
 */
function removedByRestartAll(status: ContainerStatus): boolean {
  return (
    status.state.terminated?.reason === restartingAllContainersReason ||
    status.lastState.terminated?.reason === restartingAllContainersReason ||
    status.state.waiting?.reason === restartingAllContainersReason
  );
}

/**
 * Upstream getPhase: the pod phase from its container statuses. Sidecars count as pending until
 * started; a failed regular init container fails a pod that never restarts. A stopped container
 * its own restartPolicy or restart rules restart (ContainerRestartRules), or one removed to
 * restart all containers, keeps a pod whose restartPolicy is not Always running. While such a
 * restart removes the containers, a removed regular init container counts as stopped and
 * restartable, not pending (upstream: a waiting init container with a last termination is never
 * pending), so the pod stays Running; it is Pending again once that init container runs.
 */
export function podPhase(pod: Pod, initStatuses: ContainerStatus[], statuses: ContainerStatus[]): PodPhase {
  const restartPolicy = pod.spec.restartPolicy ?? 'Always';
  const byName = (list: ContainerStatus[], name: string) => list.find((s) => s.name === name);
  // A regular init container that failed and that neither its own restartPolicy and rules nor
  // the pod's restart policy (nor a RestartAllContainers restart) runs again.
  const failedForGood = (container: Container, status: ContainerStatus, exitCode: number) =>
    exitCode !== 0 && !containerShouldRestart(container, pod, exitCode) && !removedByRestartAll(status);
  let pendingSidecars = 0;
  let pendingInit = 0;
  let failedInit = 0;
  for (const container of pod.spec.initContainers ?? []) {
    const status = byName(initStatuses, container.name);
    if (isSidecar(container)) {
      if (!status?.started) pendingSidecars++;
      continue;
    }
    if (!status) {
      pendingInit++;
    } else if (status.state.running) {
      pendingInit++;
    } else if (status.state.terminated) {
      if (failedForGood(container, status, status.state.terminated.exitCode)) failedInit++;
    } else if (status.state.waiting) {
      if (status.lastState.terminated) {
        if (failedForGood(container, status, status.lastState.terminated.exitCode)) failedInit++;
      } else {
        pendingInit++;
      }
    } else {
      pendingInit++;
    }
  }

  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  let restarting = 0;
  for (const container of pod.spec.containers) {
    const status = byName(statuses, container.name);
    if (!status) {
      unknown++;
    } else if (status.state.running) {
      running++;
    } else if (status.state.terminated) {
      stopped++;
      if (status.state.terminated.exitCode === 0) succeeded++;
      if (
        removedByRestartAll(status) ||
        containerShouldRestart(container, pod, status.state.terminated.exitCode)
      )
        restarting++;
    } else if (status.state.waiting) {
      const last = status.lastState.terminated;
      if (last) {
        stopped++;
        if (removedByRestartAll(status) || containerShouldRestart(container, pod, last.exitCode))
          restarting++;
      } else waiting++;
    } else {
      unknown++;
    }
  }

  if (failedInit > 0) return 'Failed';
  if (pendingInit > 0 || (pendingSidecars > 0 && running + stopped === 0)) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (restartPolicy === 'Always' || restarting > 0) return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** Whether a pod in `phase` is finished for good (Succeeded or Failed): it never runs again. */
export function isTerminalPhase(phase: PodPhase | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}
