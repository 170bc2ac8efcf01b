import type { Container, Pod } from '../api/pod-types';
import { formatPod } from '../events/event-reasons';
import type { ImageUser } from './image-user';
import { effectiveSecurityContext } from './security-context';
import { SecurityContextError } from './security-context-error';

export type { ImageUser } from './image-user';

const maxUserID = 2147483647;

/**
 * Upstream verifyRunAsNonRoot (Linux), made before CreateContainer: with runAsNonRoot true, an
 * explicit runAsUser must not be 0; without one, the image's user must be a numeric non-zero uid.
 * A refusal is the container's CreateContainerConfigError with upstream's message.
 */
export function verifyRunAsNonRoot(pod: Pod, container: Container, image: ImageUser): void {
  const effective = effectiveSecurityContext(pod, container);
  if (effective.runAsNonRoot !== true) return;
  const where = `(pod: ${JSON.stringify(formatPod(pod))}, container: ${container.name})`;
  if (effective.runAsUser !== undefined) {
    if (effective.runAsUser === 0) {
      throw new SecurityContextError(
        'securityContext.runAsUser',
        0,
        `container's runAsUser breaks non-root policy ${where}`,
      );
    }
    return;
  }
  if (image.uid === undefined && image.username) {
    throw new SecurityContextError(
      'image user',
      image.username,
      `container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root ${where}`,
    );
  }
  if (image.uid === undefined) return;
  if (image.uid === 0) {
    throw new SecurityContextError(
      'image user',
      0,
      `container has runAsNonRoot and image will run as root ${where}`,
    );
  }
  if (image.uid < 0 || image.uid > maxUserID) {
    throw new SecurityContextError(
      'image user',
      image.uid,
      `container has runAsNonRoot and image has an invalid user id (${image.uid}). (Must be 1-(${maxUserID})): must be between 0 and ${maxUserID}, inclusive ${where}`,
    );
  }
}
