import { configHashAnnotation, configMirrorAnnotation } from '../api/config-source';
import type { Pod } from '../api/pod-types';

/**
 * Whether `mirror` is the current mirror pod of `staticPod`: the same namespace and name, its
 * config.mirror annotation holding the static pod's config.hash, and not being deleted. Upstream
 * (IsMirrorPodOf plus the kubelet's syncPod) replaces any other mirror pod of that name, so until
 * then the static pod has no mirror pod: its status is neither compared with nor meant for it.
 */
export function isMirrorPodOf(mirror: Pod, staticPod: Pod): boolean {
  const hash = mirror.metadata.annotations?.[configMirrorAnnotation];
  return (
    hash !== undefined &&
    hash === staticPod.metadata.annotations?.[configHashAnnotation] &&
    mirror.metadata.name === staticPod.metadata.name &&
    (mirror.metadata.namespace ?? 'default') === (staticPod.metadata.namespace ?? 'default') &&
    mirror.metadata.deletionTimestamp === undefined
  );
}
