import { podRejectedPrefix } from '../admission/admit-handler';
import {
  type Container,
  type ContainerState,
  type ContainerStatus,
  isSidecar,
  type Pod,
  type PodPhase,
  type PodStatus,
} from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';
import {
  containerInstances,
  type PodRuntimeStatus,
  type RuntimeContainerStatus,
  type RuntimeContainerUser,
} from '../cri/runtime-state';
import { rfc3339 } from '../rfc3339';
import { runningResourceFields, volumeMountStatuses } from './container-status-fields';
import { KUBELET_CONDITIONS, observedGeneration, podConditions } from './pod-conditions';
import { isTerminalPhase, podPhase } from './pod-phase';
import { restartedContainerStatus } from './restart-all-status';

/** Why a container is not running, as decided by the last sync (CrashLoopBackOff, ErrImagePull...). */
export interface ContainerWaitingReason {
  reason: string;
  message?: string;
}

/** What {@link generatePodStatus} needs beyond the pod and its runtime state. */
export interface PodStatusInputs {
  /** Now, in ms since the epoch (for startTime and condition transitions). */
  now: number;
  /** The node's IPs, reported as status.hostIP and hostIPs. */
  hostIPs: string[];
  /** Readiness probe result of a running container; containers without a readiness probe are ready once running. */
  ready?(containerId: string, container: Container): boolean;
  /** Startup probe result; containers without a startup probe are started once running. */
  started?(containerId: string, container: Container): boolean;
  /** Sync errors per container name (upstream's syncResults turned into waiting reasons). */
  waitingReasons?: ReadonlyMap<string, ContainerWaitingReason>;
  /** Prefix of containerID in the API ("containerd"). */
  runtimeType?: string;
  /** This sync removed every container for a RestartAllContainers rule (KEP-5532). */
  restartingAllContainers?: boolean;
}

/**
 * Upstream generateAPIPodStatus: the status the kubelet reports for a pod, from the spec, the
 * runtime state and the previous status (which keeps startTime, transition times and lastState
 * stable). Deterministic for the same inputs, so the status manager can compare and skip no-op
 * patches.
 */
export function generatePodStatus(pod: Pod, runtime: PodRuntimeStatus, inputs: PodStatusInputs): PodStatus {
  const previous = pod.status ?? {};
  const containers = podContainerStatuses(pod, runtime, inputs);
  let phase = podPhase(pod, containers.init, containers.regular);
  // A terminal phase is final (upstream never moves a pod out of Succeeded/Failed).
  if (isTerminalPhase(previous.phase)) phase = previous.phase!;

  const status = podFields(pod, phase, runtime, inputs);
  if (containers.init.length > 0) status.initContainerStatuses = containers.init;
  // Upstream sorts regular (and ephemeral) container statuses by name, init ones stay in spec order.
  status.containerStatuses = byName(containers.regular);
  if (containers.ephemeral.length > 0) status.ephemeralContainerStatuses = byName(containers.ephemeral);
  status.conditions = podConditions(pod, {
    phase,
    initialized: containers.initialized,
    sandboxReady: runtime.sandboxes[0]?.ready === true,
    initStatuses: containers.init,
    statuses: containers.regular,
    now: inputs.now,
    restartingAllContainers: inputs.restartingAllContainers === true,
  });
  return status;
}

/** A pod's container statuses by kind, each in spec order, and whether its initialization is done. */
interface PodContainerStatuses {
  init: ContainerStatus[];
  regular: ContainerStatus[];
  ephemeral: ContainerStatus[];
  initialized: boolean;
}

function podContainerStatuses(
  pod: Pod,
  runtime: PodRuntimeStatus,
  inputs: PodStatusInputs,
): PodContainerStatuses {
  const previous = pod.status ?? {};
  const runtimeType = inputs.runtimeType ?? 'containerd';
  const mainCreated = pod.spec.containers.some((c) => containerInstances(runtime, c.name).length > 0);
  const init = (pod.spec.initContainers ?? []).map((container) =>
    containerStatus(
      container,
      runtime,
      inputs,
      previous.initContainerStatuses,
      runtimeType,
      'PodInitializing',
      true,
    ),
  );
  // Until initialization is done, a regular container waits for it rather than for its own creation.
  const initialized = initializationComplete(pod, init, mainCreated);
  const regular = pod.spec.containers.map((container) =>
    containerStatus(
      container,
      runtime,
      inputs,
      previous.containerStatuses,
      runtimeType,
      initialized ? 'ContainerCreating' : 'PodInitializing',
    ),
  );
  // Ephemeral containers have no probes and never count for readiness (upstream: ready false).
  const ephemeral = (pod.spec.ephemeralContainers ?? []).map((container) => ({
    ...containerStatus(
      container,
      runtime,
      inputs,
      previous.ephemeralContainerStatuses,
      runtimeType,
      'ContainerCreating',
    ),
    ready: false,
  }));
  return { init, regular, ephemeral, initialized };
}

/**
 * The pod-level fields of a new status (phase, addresses, startTime, QoS class, a terminal
 * reason), in the key order upstream's status carries them; conditions are filled in last.
 */
function podFields(pod: Pod, phase: PodPhase, runtime: PodRuntimeStatus, inputs: PodStatusInputs): PodStatus {
  const previous = pod.status ?? {};
  const sandbox = runtime.sandboxes[0];
  const ips = sandbox?.ready ? sandbox.ips : [];
  const podIPs = sandbox?.hostNetwork ? inputs.hostIPs : ips;
  const status: PodStatus = {
    ...observedGeneration(pod),
    phase,
    conditions: [],
    hostIP: inputs.hostIPs[0],
    hostIPs: inputs.hostIPs.map((ip) => ({ ip })),
    podIP: podIPs[0] ?? previous.podIP,
    podIPs: podIPs.length > 0 ? podIPs.map((ip) => ({ ip })) : previous.podIPs,
    startTime: previous.startTime ?? rfc3339(inputs.now),
    qosClass: podQOSClass(pod),
  };
  if (status.podIP === undefined) delete status.podIP;
  if (status.podIPs === undefined) delete status.podIPs;
  if (status.hostIP === undefined) delete status.hostIP;
  // Why the kubelet ended a pod (rejection, eviction) stays with the terminal phase.
  if (isTerminalPhase(previous.phase) && previous.reason) {
    status.reason = previous.reason;
    if (previous.message) status.message = previous.message;
  }
  return status;
}

/**
 * The status of a pod the kubelet refused to run (admission failure, invalid spec), as upstream
 * rejectPod leaves it: phase, reason, message, startTime, QoS class and observed generation; no
 * container statuses and no conditions (nothing was ever synced for it).
 */
export function rejectedPodStatus(pod: Pod, reason: string, message: string, now: number): PodStatus {
  const {
    containerStatuses: _containers,
    initContainerStatuses: _init,
    ephemeralContainerStatuses: _ephemeral,
    conditions,
    ...previous
  } = pod.status ?? {};
  // Conditions others own (readiness gates, DisruptionTarget) stay; the kubelet's never existed.
  const foreign = (conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type));
  return {
    ...previous,
    ...observedGeneration(pod),
    phase: 'Failed',
    reason,
    message,
    startTime: pod.status?.startTime ?? rfc3339(now),
    qosClass: pod.status?.qosClass ?? podQOSClass(pod),
    ...(foreign.length > 0 ? { conditions: foreign } : {}),
  };
}

/** Whether a status is a kubelet refusal (rejectedPodStatus): it stays as it is once the pod stops. */
export function isRejectedPodStatus(status: PodStatus | undefined): boolean {
  return (
    status?.phase === 'Failed' &&
    status.containerStatuses === undefined &&
    status.initContainerStatuses === undefined &&
    (status.reason === 'InvalidPodSpec' || status.message?.startsWith(podRejectedPrefix) === true)
  );
}

function initializationComplete(pod: Pod, initStatuses: ContainerStatus[], mainCreated: boolean): boolean {
  if (mainCreated) return true;
  return (pod.spec.initContainers ?? []).every((container, index) => {
    const status = initStatuses[index]!;
    return isSidecar(container) ? status.started === true : status.state.terminated?.exitCode === 0;
  });
}

function containerStatus(
  container: Container,
  runtime: PodRuntimeStatus,
  inputs: PodStatusInputs,
  previousStatuses: ContainerStatus[] | undefined,
  runtimeType: string,
  defaultWaitingReason: string,
  isInit = false,
): ContainerStatus {
  const instances = containerInstances(runtime, container.name);
  const current = instances[0];
  const previous = previousStatuses?.find((s) => s.name === container.name);
  const waiting = inputs.waitingReasons?.get(container.name);
  const status: ContainerStatus = {
    name: container.name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: 0,
    image: container.image ?? '',
    imageID: '',
    started: false,
  };
  const mounts = volumeMountStatuses(container);
  if (mounts) status.volumeMounts = mounts;
  if (!current) {
    if (inputs.restartingAllContainers && previous && !previous.state.waiting)
      return restartedContainerStatus(status, previous);
    status.state = { waiting: waitingState(waiting ?? { reason: defaultWaitingReason }) };
    status.lastState = previous?.lastState ?? {};
    status.restartCount = previous?.restartCount ?? 0;
    return status;
  }
  // The runtime's count starts again at 0 after a RestartAllContainers removal; the API's stays.
  status.restartCount = Math.max(current.restartCount, previous?.restartCount ?? 0);
  status.imageID = current.imageRef;
  status.containerID = `${runtimeType}://${current.id}`;
  const older = instances[1];
  // Without an older instance in the runtime (removed), the last one the API saw end is it.
  const lastState: ContainerState = older
    ? { terminated: terminatedState(older, runtimeType) }
    : previous?.state.terminated && previous.containerID !== status.containerID
      ? { terminated: previous.state.terminated }
      : (previous?.lastState ?? {});
  switch (current.state) {
    case 'running': {
      status.state = { running: { startedAt: rfc3339(current.startedAt ?? current.createdAt) } };
      status.lastState = lastState;
      status.started = inputs.started ? inputs.started(current.id, container) : true;
      status.ready = status.started && (inputs.ready ? inputs.ready(current.id, container) : true);
      Object.assign(status, runningResourceFields(container));
      break;
    }
    case 'exited': {
      if (waiting) {
        // Dead and about to be restarted (or held back): waiting, with the death as lastState.
        status.state = { waiting: waitingState(waiting) };
        status.lastState = { terminated: terminatedState(current, runtimeType) };
      } else {
        status.state = { terminated: terminatedState(current, runtimeType) };
        status.lastState = lastState;
        // A regular init container that completed is ready (upstream prober UpdatePodStatus).
        if (isInit && !isSidecar(container) && current.exitCode === 0) status.ready = true;
      }
      // Upstream reports resources of an exited container too (v1.36.3: crashy, done in fidelity/).
      Object.assign(status, runningResourceFields(container));
      break;
    }
    default: {
      status.state = { waiting: waitingState(waiting ?? { reason: 'ContainerCreating' }) };
      status.lastState = lastState;
    }
  }
  // Upstream convertContainerStatusUser (SupplementalGroupsPolicy, GA): the newest instance's
  // identity as the runtime reports it, whatever its state; an empty group list is left out.
  if (current.user) status.user = { linux: containerUser(current.user) };
  return status;
}

function containerUser({ uid, gid, supplementalGroups }: RuntimeContainerUser) {
  return supplementalGroups.length > 0 ? { uid, gid, supplementalGroups } : { uid, gid };
}

function waitingState(waiting: ContainerWaitingReason): { reason: string; message?: string } {
  return waiting.message ? { reason: waiting.reason, message: waiting.message } : { reason: waiting.reason };
}

function terminatedState(
  container: RuntimeContainerStatus,
  runtimeType: string,
): NonNullable<ContainerState['terminated']> {
  const exitCode = container.exitCode ?? 0;
  const state: NonNullable<ContainerState['terminated']> = {
    exitCode,
    reason: container.reason || (exitCode === 0 ? 'Completed' : 'Error'),
    startedAt: rfc3339(container.startedAt ?? container.createdAt),
    finishedAt: rfc3339(container.finishedAt ?? container.startedAt ?? container.createdAt),
    containerID: `${runtimeType}://${container.id}`,
  };
  if (container.message) state.message = container.message;
  return state;
}

/** Container statuses ordered by name (code-unit order, as Go compares strings). */
function byName(statuses: ContainerStatus[]): ContainerStatus[] {
  return [...statuses].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
