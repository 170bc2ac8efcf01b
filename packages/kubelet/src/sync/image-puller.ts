import type { MessageInput, PodSandboxConfig } from '@nodeagent/cri-client/types';
import type { Clock } from '@nodeagent/primitives';
import type { Container, Pod } from '../api/pod-types';
import type { ImageUser } from '../cri/verify-run-as-non-root';
import type { CrashLoopBackOff } from '../pod/crash-loop-backoff';
import type { ImagePullAuth, PodRuntime } from '../runtime/pod-runtime';
import { SyncStepError } from './sync-errors';

/** Upstream default: Always for ":latest" or untagged images, IfNotPresent otherwise. */
export function effectivePullPolicy(container: Container): 'Always' | 'IfNotPresent' | 'Never' {
  if (container.imagePullPolicy) return container.imagePullPolicy;
  const image = container.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.split('/').pop() ?? '';
  const tag = lastPart.includes(':') ? lastPart.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/**
 * Upstream imageManager.EnsureImageExists: honours imagePullPolicy, tries each pull secret's
 * credentials, and backs off per pod and image after failures (ImagePullBackOff).
 */
export async function ensureImage(
  runtime: PodRuntime,
  pod: Pod,
  container: Container,
  credentials: ImagePullAuth[],
  sandboxConfig: MessageInput<PodSandboxConfig>,
  backoff: CrashLoopBackOff,
  clock: Clock,
): Promise<string> {
  const image = container.image ?? '';
  const policy = effectivePullPolicy(container);
  const present = await runtime.imageRef(image).catch(() => undefined);
  if (policy === 'Never') {
    if (present) return present;
    throw new SyncStepError(
      'ErrImageNeverPull',
      container.name,
      `Container image "${image}" is not present with pull policy of Never`,
    );
  }
  if (policy === 'IfNotPresent' && present) return present;
  const key = `${pod.metadata.uid ?? ''}_${image}`;
  if (backoff.isInBackOffSinceUpdate(key)) {
    throw new SyncStepError('ImagePullBackOff', container.name, `Back-off pulling image "${image}"`);
  }
  let lastError: unknown;
  for (const auth of credentials.length > 0 ? credentials : [undefined]) {
    try {
      const ref = await runtime.pullImage(image, auth, sandboxConfig);
      backoff.reset(key);
      return ref;
    } catch (error) {
      lastError = error;
    }
  }
  backoff.next(key, clock.now());
  throw new SyncStepError(
    'ErrImagePull',
    container.name,
    `Failed to pull image "${image}": ${(lastError as Error)?.message ?? String(lastError)}`,
  );
}

/**
 * Upstream getImageUser: the uid the image's config names, else its user name, else root (uid 0)
 * — also when the runtime cannot say. A failing ImageStatus fails the container's config
 * (CreateContainerConfigError), as upstream.
 */
export async function imageUser(
  runtime: PodRuntime,
  container: Container,
  imageRef: string,
): Promise<ImageUser> {
  let status: { uid?: number; username?: string } | undefined;
  try {
    status = await runtime.imageUser?.(imageRef);
  } catch (error) {
    throw new SyncStepError('CreateContainerConfigError', container.name, (error as Error).message);
  }
  if (status?.uid !== undefined) return { uid: status.uid };
  if (status?.username) return { username: status.username };
  return { uid: 0 };
}
