/**
 * Labels and annotations the kubelet puts on CRI sandboxes and containers. They are how a
 * restarted kubelet recognises its own containers (and how crictl shows pod names), so the keys
 * match upstream exactly.
 */
/** Sandbox and container label holding the pod's name. */
export const podNameLabel = 'io.kubernetes.pod.name';
/** Sandbox and container label holding the pod's namespace. */
export const podNamespaceLabel = 'io.kubernetes.pod.namespace';
/** Sandbox and container label holding the pod's UID, the key a restarted kubelet matches its pods by. */
export const podUidLabel = 'io.kubernetes.pod.uid';
/** Container label holding the spec container's name. */
export const containerNameLabel = 'io.kubernetes.container.name';

/** Container annotation: hash of the spec the container was created from; a changed spec restarts it. */
export const containerHashAnnotation = 'io.kubernetes.container.hash';
/** Container annotation: the restart count when the container was created (decimal string). */
export const containerRestartCountAnnotation = 'io.kubernetes.container.restartCount';
/** Container annotation: the spec's terminationMessagePath, read again when the container exits. */
export const containerTerminationMessagePathAnnotation = 'io.kubernetes.container.terminationMessagePath';
/** Container annotation: the spec's terminationMessagePolicy (File or FallbackToLogsOnError). */
export const containerTerminationMessagePolicyAnnotation = 'io.kubernetes.container.terminationMessagePolicy';
/** Container annotation: the preStop handler as JSON, so a restarted kubelet can still run it on stop. */
export const containerPreStopHandlerAnnotation = 'io.kubernetes.container.preStopHandler';
/** Container annotation: the spec's ports as JSON. */
export const containerPortsAnnotation = 'io.kubernetes.container.ports';
/** Container annotation: the pod's deletionGracePeriodSeconds when it was created, for stops after a kubelet restart. */
export const podDeletionGracePeriodAnnotation = 'io.kubernetes.pod.deletionGracePeriod';
/** Container annotation: the pod's terminationGracePeriodSeconds, for stops after a kubelet restart. */
export const podTerminationGracePeriodAnnotation = 'io.kubernetes.pod.terminationGracePeriod';

/** The pod a CRI sandbox or container belongs to, as read back from its labels. */
export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
}

/** Reads the pod a CRI object belongs to from its labels; undefined for objects not made by a kubelet. */
export function podIdentityFromLabels(labels: Record<string, string> | undefined): PodIdentity | undefined {
  const name = labels?.[podNameLabel];
  const namespace = labels?.[podNamespaceLabel];
  const uid = labels?.[podUidLabel];
  if (!name || !namespace || !uid) return undefined;
  return { name, namespace, uid };
}
