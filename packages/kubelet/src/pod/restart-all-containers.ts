import type { Container, Pod } from '../api/pod-types';
import { findContainer, type PodRuntimeStatus, type RuntimeContainerStatus } from '../cri/runtime-state';
import { matchingRestartRule } from './container-restart-rules';

/** The pod condition a RestartAllContainers rule drives (upstream v1.AllContainersRestarting). */
export const allContainersRestartingType = 'AllContainersRestarting';
/** The restart rule action that restarts every container of the pod in place (KEP-5532). */
export const restartAllContainersAction = 'RestartAllContainers';

/** The init and regular containers a RestartAllContainers restart removes and starts again. */
function restartedContainers(pod: Pod): Container[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
}

/**
 * Upstream AllContainersCouldRestart: some init or regular container has a RestartAllContainers
 * rule. Only such pods carry the AllContainersRestarting condition.
 */
export function allContainersCouldRestart(pod: Pod): boolean {
  return restartedContainers(pod).some((container) =>
    (container.restartPolicyRules ?? []).some((rule) => rule.action === restartAllContainersAction),
  );
}

/** Whether `container` ended with an exit code its RestartAllContainers rule matches. */
function triggers(container: Container, instance: RuntimeContainerStatus | undefined): boolean {
  return (
    instance?.state === 'exited' &&
    matchingRestartRule(container, instance.exitCode ?? 0)?.action === restartAllContainersAction
  );
}

/**
 * Upstream ShouldAllContainersRestart: the pod's last status says a restart of all containers is
 * under way, or the newest instance of one of its containers exited into a RestartAllContainers
 * rule (or the last status shows it terminated so).
 */
export function shouldAllContainersRestart(pod: Pod, runtime: PodRuntimeStatus): boolean {
  const previous = pod.status;
  if (previous?.conditions?.some((c) => c.type === allContainersRestartingType && c.status === 'True'))
    return true;
  const reported = [...(previous?.initContainerStatuses ?? []), ...(previous?.containerStatuses ?? [])];
  return restartedContainers(pod).some((container) => {
    if (triggers(container, findContainer(runtime, container.name))) return true;
    const terminated = reported.find((s) => s.name === container.name)?.state.terminated;
    return (
      terminated !== undefined &&
      matchingRestartRule(container, terminated.exitCode)?.action === restartAllContainersAction
    );
  });
}

/**
 * Upstream AllContainersRestartCleanedUp: the runtime holds no instance of any init or regular
 * container any more, so the pod can start again from its first init container.
 */
export function allContainersRestartCleanedUp(pod: Pod, runtime: PodRuntimeStatus): boolean {
  return restartedContainers(pod).every((container) => !findContainer(runtime, container.name));
}

/**
 * Whether this sync removes every container to restart them all: one asked for it and the
 * runtime still holds containers (upstream: the AllContainersRestarting condition is True).
 */
export function isRestartingAllContainers(pod: Pod, runtime: PodRuntimeStatus): boolean {
  return (
    allContainersCouldRestart(pod) &&
    shouldAllContainersRestart(pod, runtime) &&
    !allContainersRestartCleanedUp(pod, runtime)
  );
}

/** One container instance a RestartAllContainers restart removes (stopped first when it runs). */
export interface ContainerToRemove {
  /** The runtime's container ID. */
  containerId: string;
  /** The container's name in the pod spec. */
  name: string;
  /** Still running (or created, or unknown): stop it before removing it. */
  kill: boolean;
}

/**
 * Upstream getContainersToReset: every instance of the pod's init and regular containers, the
 * ones whose exit triggered the restart last (they stay as the evidence until the rest is gone).
 */
export function containersToReset(pod: Pod, runtime: PodRuntimeStatus): ContainerToRemove[] {
  const targets: ContainerToRemove[] = [];
  const sources: ContainerToRemove[] = [];
  for (const container of restartedContainers(pod)) {
    for (const instance of runtime.containers.filter((c) => c.name === container.name)) {
      const remove = { containerId: instance.id, name: container.name, kill: instance.state !== 'exited' };
      if (triggers(container, instance)) sources.push(remove);
      else targets.push(remove);
    }
  }
  return [...targets, ...sources];
}
