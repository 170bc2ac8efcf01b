import { configSourceAnnotation } from '../api/config-source';
import type { Pod } from '../api/pod-types';

/** Pods of one static source ("file" or "http"): what that source's full set replaces. */
export function isPodFromSource(source: 'file' | 'http'): (pod: Pod) => boolean {
  return (pod) => pod.metadata.annotations?.[configSourceAnnotation] === source;
}
