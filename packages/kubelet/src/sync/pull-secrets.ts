import type { Pod, Secret } from '../api/pod-types';
import {
  type DockerConfig,
  DockerKeyring,
  type RegistryCredential,
  repositoryToPull,
} from '../images/credential-provider/docker-keyring';
import type { ImageCredentialProviders } from '../images/credential-provider/image-credential-providers';
import type { TrackedPullAuth } from '../images/tracked-pull-credentials';

/** The registry host of an image reference, as the container tools resolve it ("docker.io" by default). */
export function imageRegistry(image: string): string {
  const first = image.split('/')[0]!;
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return first;
  return 'docker.io';
}

type DockerConfigEntry = { username?: string; password?: string; auth?: string };

/**
 * A docker config entry's credentials as upstream DockerConfigEntry decodes them: a base64
 * `auth` ("user:password") wins over `username`/`password` when present.
 */
function entryCredential(entry: DockerConfigEntry): RegistryCredential {
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { username: entry.username ?? '', password: entry.password ?? '' };
}

/** The docker config of one pull secret, as upstream MakeDockerKeyring reads it; undefined if none. */
function secretDockerConfig(secret: Secret): DockerConfig | undefined {
  let raw: string | undefined;
  let jsonConfig: boolean;
  if (secret.type === 'kubernetes.io/dockerconfigjson' && secret.data?.['.dockerconfigjson']) {
    raw = secret.data['.dockerconfigjson'];
    jsonConfig = true;
  } else if (secret.type === 'kubernetes.io/dockercfg' && secret.data?.['.dockercfg']) {
    raw = secret.data['.dockercfg'];
    jsonConfig = false;
  } else return undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    // Upstream fails the pull on a secret that does not decode; here it only contributes nothing.
    return undefined;
  }
  const entries = ((jsonConfig ? parsed.auths : parsed) ?? {}) as Record<string, unknown>;
  const config: DockerConfig = {};
  // Each credential remembers its secret, so a verified pull (KEP-2535) records who pulled.
  const source = {
    secret: {
      uid: secret.metadata?.uid ?? '',
      namespace: secret.metadata?.namespace ?? '',
      name: secret.metadata?.name ?? '',
    },
  };
  for (const [key, entry] of Object.entries(entries))
    if (typeof entry === 'object' && entry !== null)
      config[key] = { ...entryCredential(entry as DockerConfigEntry), source };
  return config;
}

/**
 * Credentials for `image` from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson or the
 * legacy kubernetes.io/dockercfg), as upstream's keyring of every secret finds them: the entries
 * matching the image's repository (host globs, path prefix), most specific first, Docker Hub's
 * "index.docker.io" entry for Hub images. The kubelet tries each until a pull works.
 */
export function pullCredentials(image: string, secrets: Secret[]): TrackedPullAuth[] {
  const keyring = new DockerKeyring();
  for (const secret of secrets) {
    const config = secretDockerConfig(secret);
    if (config) keyring.add(config);
  }
  // No serverAddress, as upstream: containerd 1.6 URL-parses a non-empty one and refuses a
  // `host:port` without a scheme ("first path segment in URL cannot contain colon").
  return keyring.lookup(repositoryToPull(image));
}

/** The credentials to try for one pull, computed only when a pull happens. */
export type PullCredentials = () => Promise<TrackedPullAuth[]>;

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
    // Upstream passes a provider's username and password only (no server address); a credential
    // got with the pod's service account token keeps that account as its source.
    return [
      ...fromSecrets,
      ...fromProviders.map(({ username, password, source }) =>
        source ? { username, password, source } : { username, password },
      ),
    ];
  };
}
