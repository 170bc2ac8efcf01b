import { type Container, isSidecar, type Pod } from '../api/pod-types';
import { containerHash } from '../cri/container-hash';
import { findContainer, type PodRuntimeStatus, type RuntimeContainerStatus } from '../cri/runtime-state';
import type { ProbeState } from '../probes/probe-state';
import { containerShouldRestart } from './container-restart-rules';
import {
  type ContainerToRemove,
  containersToReset,
  isRestartingAllContainers,
} from './restart-all-containers';

/** A running container the sync stops, and why (upstream containerToKillInfo). */
export interface ContainerToKill {
  /** The runtime's container ID. */
  containerId: string;
  /** The container's name in the pod spec. */
  name: string;
  /** Why, for events and logs: "LivenessProbe", "StartupProbe", "SpecChanged", "Unknown", "InitFailed". */
  reason: string;
  /** The Killing event's message, e.g. "Container app failed liveness probe, will be restarted". */
  message: string;
}

/** What SyncPod must do to move the runtime towards the spec (upstream podActions). */
export interface PodActions {
  /** Stop every container and the sandbox (before re-creating it, or because the pod is done). */
  killPod: boolean;
  createSandbox: boolean;
  /** The current sandbox, when it is kept. */
  sandboxId?: string;
  /** CRI attempt number for the sandbox to create. */
  attempt: number;
  /** Indices into spec.initContainers to start, in order; each must complete (or, for sidecars, start) before the next. */
  initContainersToStart: number[];
  /** Indices into spec.containers to start. */
  containersToStart: number[];
  /** Indices into spec.ephemeralContainers to start (those never started: they are not restarted). */
  ephemeralContainersToStart: number[];
  containersToKill: ContainerToKill[];
  /**
   * RestartAllContainers (KEP-5532): every init and regular container instance to stop and
   * remove, nothing started; the next sync starts the pod again from its first init container.
   */
  containersToRemove: ContainerToRemove[];
}

/**
 * Compares the pod spec with the runtime state and returns the actions that bring them together:
 * upstream kuberuntime computePodActions, including sidecars (init containers with
 * restartPolicy Always) and restart policies. Pure: backoff is applied when starting.
 */
export function computePodActions(pod: Pod, status: PodRuntimeStatus, probes: ProbeState = {}): PodActions {
  const restartPolicy = pod.spec.restartPolicy ?? 'Always';
  const initContainers = pod.spec.initContainers ?? [];
  const sandbox = sandboxChange(pod, status);
  const actions: PodActions = {
    killPod: sandbox.create,
    createSandbox: sandbox.create,
    sandboxId: sandbox.id,
    attempt: sandbox.attempt,
    initContainersToStart: [],
    containersToStart: [],
    ephemeralContainersToStart: [],
    containersToKill: [],
    containersToRemove: [],
  };

  // Upstream decides this before anything else: the restart of all containers comes first.
  if (isRestartingAllContainers(pod, status)) {
    actions.containersToRemove = containersToReset(pod, status);
    return actions;
  }

  if (sandbox.create) {
    // A pod that must not restart on failure and already ran is done: never re-create its sandbox.
    if (restartPolicy === 'Never' && sandbox.attempt !== 0 && status.containers.length !== 0) {
      actions.createSandbox = false;
      return actions;
    }
    const toStart = pod.spec.containers
      .map((_, index) => index)
      .filter(
        (index) =>
          !(
            // A run-once container (its own restartPolicy, or the pod's) that succeeded stays done.
            (pod.spec.containers[index]!.restartPolicy ?? restartPolicy) === 'OnFailure' &&
            succeeded(findContainer(status, pod.spec.containers[index]!.name))
          ),
      );
    if (toStart.length === 0) {
      const initialized = initContainers.some(isSidecar)
        ? pod.spec.containers.some((c) => findContainer(status, c.name) !== undefined)
        : initContainers.every((c) => succeeded(findContainer(status, c.name)));
      if (initialized) {
        actions.createSandbox = false;
        return actions;
      }
    }
    // A new sandbox starts from the beginning: init containers first, in order.
    if (initContainers.length > 0) actions.initContainersToStart = [0];
    else actions.containersToStart = toStart;
    return actions;
  }

  // Ephemeral containers start even before initialization completes, once, never restarted.
  for (const [index, container] of (pod.spec.ephemeralContainers ?? []).entries()) {
    if (!findContainer(status, container.name)) actions.ephemeralContainersToStart.push(index);
  }
  const initialized = computeInitContainerActions(pod, status, probes, actions);
  if (actions.killPod || !initialized) return actions;

  let keepCount = 0;
  for (const [index, container] of pod.spec.containers.entries()) {
    const current = findContainer(status, container.name);
    if (current?.state !== 'running') {
      if (shouldRestart(container, pod, current)) {
        actions.containersToStart.push(index);
        if (current?.state === 'unknown') {
          actions.containersToKill.push({
            containerId: current.id,
            name: container.name,
            reason: 'Unknown',
            message: 'Container is in unknown state, try killing it before restart',
          });
        }
      }
      continue;
    }
    const kill = runningContainerKillReason(container, current, probes);
    if (!kill) {
      keepCount++;
      continue;
    }
    // A probe kill happens while the container runs: only its restartPolicy counts, not its
    // exit-code rules (upstream ContainerRestartRules).
    let restart = (container.restartPolicy ?? restartPolicy) !== 'Never';
    let message = kill.message;
    if (kill.reason === 'SpecChanged') restart = true;
    if (restart) {
      message = `${message}, will be restarted`;
      actions.containersToStart.push(index);
    }
    actions.containersToKill.push({
      containerId: current.id,
      name: container.name,
      reason: kill.reason,
      message,
    });
  }

  if (keepCount === 0 && actions.containersToStart.length === 0) {
    actions.killPod = true;
    // Sidecars must not keep a finished pod alive.
    actions.initContainersToStart = [];
  }
  return actions;
}

/**
 * Walks init containers in order. Regular ones must exit 0 before the next starts; sidecars
 * must be running and started. Returns whether initialization is complete. Also restarts sidecars
 * that died after initialization.
 */
function computeInitContainerActions(
  pod: Pod,
  status: PodRuntimeStatus,
  probes: ProbeState,
  actions: PodActions,
): boolean {
  const initContainers = pod.spec.initContainers ?? [];
  // Once a main container exists, initialization is over: only sidecars still need care.
  const mainCreated = hasRegularContainerCreated(pod, status);
  for (const [index, container] of initContainers.entries()) {
    const current = findContainer(status, container.name);
    if (isSidecar(container)) {
      if (current?.state !== 'running') {
        if (current?.state === 'unknown') {
          actions.containersToKill.push({
            containerId: current.id,
            name: container.name,
            reason: 'Unknown',
            message: 'Container is in unknown state, try killing it before restart',
          });
        }
        actions.initContainersToStart.push(index);
        // During initialization the containers after it wait until this sidecar has started.
        if (!mainCreated) return false;
        continue;
      }
      const kill = runningContainerKillReason(container, current, probes);
      if (kill) {
        actions.containersToKill.push({
          containerId: current.id,
          name: container.name,
          reason: kill.reason,
          message: `${kill.message}, will be restarted`,
        });
        actions.initContainersToStart.push(index);
        if (!mainCreated) return false;
        continue;
      }
      const started = probes.started ? probes.started(current.id) : true;
      if (!started && !mainCreated) return false;
      continue;
    }
    // Regular init containers only matter until the main containers exist.
    if (mainCreated) continue;
    if (!current) {
      actions.initContainersToStart.push(index);
      return false;
    }
    if (current.state === 'running' || current.state === 'created') return false;
    if (current.state === 'unknown') {
      actions.containersToKill.push({
        containerId: current.id,
        name: container.name,
        reason: 'Unknown',
        message: 'Init container is in unknown state, try killing it before restart',
      });
      actions.initContainersToStart.push(index);
      return false;
    }
    if (current.exitCode === 0) continue;
    // Failed regular init container: its own restartPolicy and rules decide, or the pod's.
    if (!containerShouldRestart(container, pod, current.exitCode ?? 0)) {
      actions.killPod = true;
      return false;
    }
    actions.initContainersToStart.push(index);
    return false;
  }
  return true;
}

function hasRegularContainerCreated(pod: Pod, status: PodRuntimeStatus): boolean {
  return pod.spec.containers.some((container) => findContainer(status, container.name) !== undefined);
}

function runningContainerKillReason(
  container: Container,
  current: RuntimeContainerStatus,
  probes: ProbeState,
): { reason: string; message: string } | undefined {
  if (current.hash !== '' && current.hash !== containerHash(container)) {
    return { reason: 'SpecChanged', message: `Container ${container.name} definition changed` };
  }
  if (probes.livenessFailed?.(current.id)) {
    return { reason: 'LivenessProbe', message: `Container ${container.name} failed liveness probe` };
  }
  if (probes.startupFailed?.(current.id)) {
    return { reason: 'StartupProbe', message: `Container ${container.name} failed startup probe` };
  }
  return undefined;
}

/** Upstream ShouldContainerBeRestarted for a container that is not running. */
export function shouldRestart(
  container: Container,
  pod: Pod,
  current: RuntimeContainerStatus | undefined,
): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  if (!current) return true;
  if (current.state === 'running') return false;
  if (current.state === 'unknown' || current.state === 'created') return true;
  if (isSidecar(container)) return true;
  return containerShouldRestart(container, pod, current.exitCode ?? 0);
}

function succeeded(current: RuntimeContainerStatus | undefined): boolean {
  return current?.state === 'exited' && current.exitCode === 0;
}

/** Upstream podSandboxChanged: does the pod need a new sandbox, and with which attempt? */
function sandboxChange(
  pod: Pod,
  status: PodRuntimeStatus,
): { create: boolean; attempt: number; id?: string } {
  const newest = status.sandboxes[0];
  if (!newest) return { create: true, attempt: 0 };
  const readyCount = status.sandboxes.filter((s) => s.ready).length;
  const next = { create: true, attempt: newest.attempt + 1, id: newest.id };
  if (readyCount > 1) return next;
  if (!newest.ready) return next;
  if (newest.hostNetwork !== (pod.spec.hostNetwork ?? false)) return next;
  if (!newest.hostNetwork && newest.ips.length === 0) return next;
  return { create: false, attempt: newest.attempt, id: newest.id };
}
