import type { Pod } from '../api/pod-types';

/** core/v1 event types. */
export type EventType = 'Normal' | 'Warning';

/**
 * A pod event as the kubelet's components record it (upstream recorder.Eventf on a pod or
 * container reference): fieldPath names the container (`spec.containers{name}`) or is absent
 * for the pod itself.
 */
export type PodEventRecorder = (
  pod: Pod,
  type: EventType,
  reason: string,
  message: string,
  fieldPath?: string,
) => void;

/** An event about the Node (upstream's nodeRef: kind Node, name and uid the node name). */
export type NodeEventRecorder = (type: EventType, reason: string, message: string) => void;

/**
 * What a recorder remembers of the events it made (client-go's correlator caches), told of each
 * pod the kubelet removed so that what it holds about the pod goes with it.
 */
export interface PodEventMemory {
  /** The pod of this uid is removed for good: what is held about its events goes. */
  forgetPod(uid: string): void;
}

/**
 * Upstream GetPartsFromContainerRef's field path of a container: which list of the pod spec it is
 * in and its name, e.g. `spec.initContainers{init}`.
 */
export function containerFieldPath(pod: Pod, containerName: string): string {
  if ((pod.spec.initContainers ?? []).some((c) => c.name === containerName))
    return `spec.initContainers{${containerName}}`;
  if ((pod.spec.ephemeralContainers ?? []).some((c) => c.name === containerName))
    return `spec.ephemeralContainers{${containerName}}`;
  return `spec.containers{${containerName}}`;
}

/** Upstream format.Pod: `name_namespace(uid)`, as messages name a pod. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid ?? ''})`;
}

/** Node events the kubelet records on start and on node condition changes (pkg/kubelet/events). */
export const nodeEventReasons = {
  starting: 'Starting',
  nodeAllocatableEnforced: 'NodeAllocatableEnforced',
  failedNodeAllocatableEnforcement: 'FailedNodeAllocatableEnforcement',
} as const;

/** Upstream's message of the kubelet's Starting event. */
export const startingKubeletMessage = 'Starting kubelet.';
/** Upstream's message of NodeAllocatableEnforced (container manager). */
export const nodeAllocatableEnforcedMessage = 'Updated Node Allocatable limit across pods';

/**
 * Upstream recordNodeStatusEvent: a node condition setter's event (NodeHasSufficientMemory,
 * NodeHasNoDiskPressure, NodeHasSufficientPID, NodeReady, NodeNotReady, ...) says
 * `Node <name> status is now: <reason>`.
 */
export function nodeStatusEventMessage(nodeName: string, reason: string): string {
  return `Node ${nodeName} status is now: ${reason}`;
}

/** Upstream's reason of a failed probe's Warning event (events.ContainerUnhealthy). */
export const containerUnhealthyReason = 'Unhealthy';

/**
 * Upstream prober's Unhealthy message: `Liveness probe failed: <output>` (probe type
 * capitalised; the output as the probe returned it, possibly empty), for the container's
 * fieldPath. For the prober to record through the Kubelet's recordEvent.
 */
export function probeFailedMessage(probeType: 'liveness' | 'readiness' | 'startup', output: string): string {
  return `${probeTypeTitle(probeType)} probe failed: ${output}`;
}

/**
 * Upstream prober's Unhealthy message when the probe itself errored (an exec whose ExecSync the
 * runtime refused): `Readiness probe errored and resulted in unknown state: <error>`; the result is
 * thrown away, only the event is left.
 */
export function probeErroredMessage(probeType: 'liveness' | 'readiness' | 'startup', error: string): string {
  return `${probeTypeTitle(probeType)} probe errored and resulted in unknown state: ${error}`;
}

/** The probe type as upstream's probeType.String() prints it: `Liveness`. */
function probeTypeTitle(probeType: 'liveness' | 'readiness' | 'startup'): string {
  return `${probeType[0]!.toUpperCase()}${probeType.slice(1)}`;
}
