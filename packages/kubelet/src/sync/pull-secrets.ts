import type { Pod, Secret } from '../api/pod-types';
import { repositoryToPull } from '../images/credential-provider/docker-keyring';
import type { ImageCredentialProviders } from '../images/credential-provider/image-credential-providers';
import type { ImagePullAuth } from '../runtime/pod-runtime';

/** The registry host of an image reference, as the container tools resolve it ("docker.io" by default). */
export function imageRegistry(image: string): string {
  const first = image.split('/')[0]!;
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return first;
  return 'docker.io';
}

function normaliseRegistryKey(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0]!;
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/**
 * Credentials for `image` from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson or the
 * legacy kubernetes.io/dockercfg), in secret order; the kubelet tries each until a pull works.
 */
export function pullCredentials(image: string, secrets: Secret[]): ImagePullAuth[] {
  const registry = imageRegistry(image);
  const out: ImagePullAuth[] = [];
  for (const secret of secrets) {
    const raw = secret.data?.['.dockerconfigjson'] ?? secret.data?.['.dockercfg'];
    if (!raw) continue;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    const auths = (parsed.auths ?? parsed) as Record<
      string,
      { username?: string; password?: string; auth?: string }
    >;
    for (const [key, entry] of Object.entries(auths)) {
      if (normaliseRegistryKey(key) !== registry || typeof entry !== 'object' || entry === null) continue;
      let { username, password } = entry;
      if ((!username || !password) && entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) {
          username = decoded.slice(0, colon);
          password = decoded.slice(colon + 1);
        }
      }
      out.push({ username: username ?? '', password: password ?? '', serverAddress: registry });
    }
  }
  return out;
}

/** The credentials to try for one pull, computed only when a pull happens. */
export type PullCredentials = () => Promise<ImagePullAuth[]>;

/**
 * Upstream MakeDockerKeyring(pullSecrets, UnionDockerKeyring{node keyring, credential providers}):
 * the pod's pull secrets' credentials first, then those of the credential provider plugins that
 * match the image (asked about its repository, without tag or digest, for this pod and its
 * service account). The kubelet tries them in this order until a pull succeeds.
 */
export function pullCredentialsFor(
  image: string,
  pod: Pod,
  secrets: Secret[],
  providers?: ImageCredentialProviders,
): PullCredentials {
  return async () => {
    const fromSecrets = pullCredentials(image, secrets);
    if (!providers) return fromSecrets;
    const fromProviders = await providers.lookup(repositoryToPull(image), {
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
      uid: pod.metadata.uid ?? '',
      serviceAccountName: pod.spec.serviceAccountName ?? '',
    });
    // Upstream passes a provider's username and password only (no server address).
    return [...fromSecrets, ...fromProviders.map(({ username, password }) => ({ username, password }))];
  };
}
