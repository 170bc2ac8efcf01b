import type { Pod } from '../api/pod-types';
import { configSourceAnnotation } from '../cri/labels';

/** Is this pod from a manifest file (a static pod) rather than the API server? */
export function isStaticPod(pod: Pod): boolean {
  const source = pod.metadata.annotations?.[configSourceAnnotation];
  return source !== undefined && source !== 'api';
}

/** Pods of one static source ("file" or "http"): what that source's full set replaces. */
export function isPodFromSource(source: 'file' | 'http'): (pod: Pod) => boolean {
  return (pod) => pod.metadata.annotations?.[configSourceAnnotation] === source;
}
