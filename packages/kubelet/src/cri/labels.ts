/**
 * Labels and annotations the kubelet puts on CRI sandboxes and containers. They are how a
 * restarted kubelet recognises its own containers (and how crictl shows pod names), so the keys
 * match upstream exactly.
 */
export const podNameLabel = 'io.kubernetes.pod.name';
export const podNamespaceLabel = 'io.kubernetes.pod.namespace';
export const podUidLabel = 'io.kubernetes.pod.uid';
export const containerNameLabel = 'io.kubernetes.container.name';

export const containerHashAnnotation = 'io.kubernetes.container.hash';
export const containerRestartCountAnnotation = 'io.kubernetes.container.restartCount';
export const containerTerminationMessagePathAnnotation = 'io.kubernetes.container.terminationMessagePath';
export const containerTerminationMessagePolicyAnnotation = 'io.kubernetes.container.terminationMessagePolicy';
export const containerPreStopHandlerAnnotation = 'io.kubernetes.container.preStopHandler';
export const containerPortsAnnotation = 'io.kubernetes.container.ports';
export const podTerminationGracePeriodAnnotation = 'io.kubernetes.pod.terminationGracePeriod';
/** Pods whose config source is not the API server (static pods) carry these. */
export const configSourceAnnotation = 'kubernetes.io/config.source';
export const configMirrorAnnotation = 'kubernetes.io/config.mirror';
export const configHashAnnotation = 'kubernetes.io/config.hash';
export const configSeenAnnotation = 'kubernetes.io/config.seen';

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
