import type { MessageInput, PodSandboxConfig } from '@nodeagent/cri-client/types';
import type { Clock } from '@nodeagent/primitives';
import type { Container, Pod } from '../api/pod-types';
import { goErrorText } from '../cri/go-grpc-error';
import type { PodRuntime } from '../cri/pod-runtime';
import type { ImageUser } from '../cri/verify-run-as-non-root';
import type { ImagePullManager } from '../images/image-pull-manager';
import {
  credentialsUsed,
  criAuth,
  podImageCredentials,
  type TrackedPullAuth,
} from '../images/tracked-pull-credentials';
import type { CrashLoopBackOff } from '../pod/crash-loop-backoff';
import type { PullCredentials } from './pull-secrets';
import { SyncStepError } from './sync-errors';

/**
 * Upstream prevPullErrMsg: per back-off key, `ErrImagePull: <error>` of the last failed pull, shown
 * after "Back-off pulling image" in the status while the pull backs off. Kept per back-off (one
 * per kubelet); an entry goes when its next pull starts, or with forgetSettledPullErrors.
 */
const lastPullErrors = new WeakMap<CrashLoopBackOff, Map<string, string>>();

function lastPullErrorsOf(backoff: CrashLoopBackOff): Map<string, string> {
  const known = lastPullErrors.get(backoff);
  if (known) return known;
  const errors = new Map<string, string>();
  lastPullErrors.set(backoff, errors);
  return errors;
}

/**
 * Drops the messages of pulls no longer backing off: they are only shown while the pull backs
 * off, and the pod they were for may be long gone (housekeeping, with the back-off's own GC).
 * Answers how many are still held.
 */
export function forgetSettledPullErrors(backoff: CrashLoopBackOff): number {
  const errors = lastPullErrors.get(backoff);
  if (!errors) return 0;
  for (const key of errors.keys()) if (!backoff.isInBackOffSinceUpdate(key)) errors.delete(key);
  return errors.size;
}

/** Upstream default: Always for ":latest" or untagged images, IfNotPresent otherwise. */
export function effectivePullPolicy(container: Container): 'Always' | 'IfNotPresent' | 'Never' {
  if (container.imagePullPolicy) return container.imagePullPolicy;
  const image = container.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.split('/').pop() ?? '';
  const tag = lastPart.includes(':') ? lastPart.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function neverPullError(container: Container, image: string): SyncStepError {
  return new SyncStepError(
    'ErrImageNeverPull',
    container.name,
    `Container image "${image}" is not present with pull policy of Never`,
  );
}

/**
 * Upstream imageManager.EnsureImageExists: honours imagePullPolicy, tries each credential (pull
 * secrets', then credential providers') until one pulls, and backs off per pod and image after
 * failures (ImagePullBackOff). `credentials` may be a function: it is called only when needed.
 *
 * With `pullManager` (verified pulls, KEP-2535, on by default upstream since v1.35) a present
 * image is used without pulling only if the verification policy lets the pod use it: the image
 * was not pulled by the kubelet (NeverVerifyPreloadedImages), or a record shows one of the pod's
 * pull secrets (same secret or same credential) or its service account pulled it, or it was
 * pulled without pod-scoped credentials. Otherwise IfNotPresent pulls with the pod's own
 * credentials and Never fails with ErrImageNeverPull, as for an absent image. Each pull writes an
 * intent first and a record of the credential that pulled it after.
 */
export async function ensureImage(
  runtime: PodRuntime,
  pod: Pod,
  container: Container,
  credentials: TrackedPullAuth[] | PullCredentials,
  sandboxConfig: MessageInput<PodSandboxConfig>,
  backoff: CrashLoopBackOff,
  clock: Clock,
  pullManager?: ImagePullManager,
): Promise<string> {
  const image = container.image ?? '';
  const policy = effectivePullPolicy(container);
  let resolved: TrackedPullAuth[] | undefined;
  const lookupCredentials = async () => {
    resolved ??= typeof credentials === 'function' ? await credentials() : credentials;
    return resolved;
  };
  const present = policy === 'Always' ? undefined : await runtime.imageRef(image).catch(() => undefined);
  if (policy === 'Never' && !present) throw neverPullError(container, image);
  if (present) {
    if (!pullManager) return present;
    const mustPull = await pullManager.mustAttemptImagePull(image, present, async () =>
      podImageCredentials(await lookupCredentials()),
    );
    if (!mustPull) return present;
    // Present, but the pod has not shown it may use it.
    if (policy === 'Never') throw neverPullError(container, image);
  }
  const key = `${pod.metadata.uid ?? ''}_${image}`;
  const previousErrors = lastPullErrorsOf(backoff);
  if (backoff.isInBackOffSinceUpdate(key)) {
    const event = `Back-off pulling image "${image}"`;
    const previous = previousErrors.get(key);
    const message = previous === undefined ? event : `${event}: ${previous}`;
    throw new SyncStepError('ImagePullBackOff', container.name, message, undefined, event);
  }
  previousErrors.delete(key);
  const auths = await lookupCredentials();
  await pullManager?.recordPullIntent(image);
  const errors: string[] = [];
  for (const auth of auths.length > 0 ? auths : [undefined]) {
    try {
      const ref = await runtime.pullImage(image, auth && criAuth(auth), sandboxConfig);
      backoff.reset(key);
      await pullManager?.recordImagePulled(image, ref, credentialsUsed(auth));
      return ref;
    } catch (error) {
      errors.push(goErrorText(error));
    }
  }
  await pullManager?.recordImagePullFailed(image);
  backoff.next(key, clock.now());
  // Upstream aggregates every attempt's error: one as is, several as "[first, second]". The status
  // shows the error itself, the event `Failed to pull image "x": <error>`.
  const unique = [...new Set(errors)];
  const reason = unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
  previousErrors.set(key, `ErrImagePull: ${reason}`);
  throw new SyncStepError(
    'ErrImagePull',
    container.name,
    reason,
    undefined,
    `Failed to pull image "${image}": ${reason}`,
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
