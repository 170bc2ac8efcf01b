import type { Pod } from './pod-types';

// Upstream's kubetypes: where a pod came from. Pods whose config source is not the API server
// (static pods) carry the annotations below, and so do their mirror pods in the API.
/** Pod annotation naming the pod's config source: `file`, `http` or `api`. */
export const configSourceAnnotation = 'kubernetes.io/config.source';
/** Annotation that marks a mirror pod: the API server copy of a static pod, holding the static pod's hash. */
export const configMirrorAnnotation = 'kubernetes.io/config.mirror';
/** Annotation with the hash the kubelet computed for a static pod; it also becomes the static pod's UID. */
export const configHashAnnotation = 'kubernetes.io/config.hash';
/** Annotation with the time (RFC 3339) the kubelet first saw the pod from its source. */
export const configSeenAnnotation = 'kubernetes.io/config.seen';

/** Is this pod from a manifest file or URL (a static pod) rather than the API server? */
export function isStaticPod(pod: Pod): boolean {
  const source = pod.metadata.annotations?.[configSourceAnnotation];
  return source !== undefined && source !== 'api';
}

/** Mirror pods are the API's view of static pods (the config.mirror annotation); the kubelet never runs them. */
export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata.annotations?.[configMirrorAnnotation] !== undefined;
}
