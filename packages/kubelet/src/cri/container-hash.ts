import { goJson } from '@nodeagent/primitives/go-text';
import type { Container } from '../api/pod-types';
import { deepHashBytes } from '../deep-hash';

/**
 * Upstream's HashContainer, stored on the runtime container as io.kubernetes.container.hash (in
 * hex): DeepHashObject of the JSON of the container's name and image, the only fields of a
 * running pod's container that can change and need a restart (resources are resized in place).
 * The same value as upstream's kubelet, so that neither restarts the other's containers when a
 * node changes from one to the other.
 */
export function containerHash(container: Pick<Container, 'name' | 'image'>): string {
  // json.Marshal of a map sorts its keys: image before name.
  const picked = goJson({ image: container.image ?? '', name: container.name });
  return deepHashBytes(Buffer.from(picked, 'utf8')).toString(16);
}
