import { createHash } from 'node:crypto';
import type { Clock } from '@nodeagent/primitives';
import type { TokenSource } from '../../volumes/volume-payloads';
import type { CredentialSource } from '../credential-source';
import type { CredentialProviderSpec, ServiceAccountTokenAttributes } from './credential-provider-config';
import type { DockerConfig } from './docker-keyring';
import type { CredentialProviderResponse, PluginRequest } from './exec-plugin';
import { urlsMatchStr } from './image-url-match';

const globalCacheKey = 'global';
/** Upstream cachePurgeInterval: expired entries nobody asks for again are dropped this often. */
const cachePurgeIntervalMs = 15 * 60_000;
/** TokenRequest's default lifetime, which upstream leaves the API server to apply. */
const tokenExpirationSeconds = 3600;

/** The pod an image is pulled for (token mode binds the service account token to it). */
export interface PullingPod {
  namespace: string;
  name: string;
  uid: string;
  serviceAccountName: string;
}

/** A ServiceAccount as token mode reads it: its UID and annotations. */
export interface ServiceAccountInfo {
  uid: string;
  annotations: Record<string, string>;
}

/** Reads a ServiceAccount for token mode, e.g. apiServiceAccountGetter; rejects when it cannot be read. */
export type ServiceAccountGetter = (namespace: string, name: string) => Promise<ServiceAccountInfo>;

/** Where credential providers report problems and progress. */
export interface ProviderLog {
  /** Upstream klog.Errorf lines: the provider gives no credentials and the pull goes on. */
  error(message: string): void;
  /** Upstream klog.V(5) lines. */
  debug?(message: string): void;
}

export interface PluginProviderOptions {
  clock: Clock;
  run: (request: PluginRequest) => Promise<CredentialProviderResponse>;
  tokens?: TokenSource;
  serviceAccounts?: ServiceAccountGetter;
  log?: ProviderLog;
}

interface CacheEntry {
  credentials: DockerConfig;
  expiresAt: number;
}

/** Upstream parseRegistry: everything before the first "/". */
const registryOf = (image: string) => image.split('/')[0]!;

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function sortedAnnotations(annotations: Record<string, string>): [string, string][] {
  return Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Upstream pluginProvider: one configured provider. Runs only for images its matchImages cover,
 * caches each response under the image, its registry or "global" as the response's cacheKeyType
 * says, for cacheDuration (defaultCacheDuration when absent; 0 = not cached), and joins
 * concurrent runs for the same request. In service-account token mode (tokenAttributes) it sends
 * a token bound to the pod plus the listed service-account annotations and keys its cache by the
 * service account (cacheType ServiceAccount) or by the token (cacheType Token).
 */
export class PluginProvider {
  readonly name: string;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<CredentialProviderResponse>>();
  private lastPurge: number;

  constructor(
    private readonly spec: CredentialProviderSpec,
    private readonly options: PluginProviderOptions,
  ) {
    this.name = spec.name;
    this.lastPurge = options.clock.now();
  }

  isImageAllowed(image: string): boolean {
    return this.spec.matchImages.some((glob) => urlsMatchStr(glob, image));
  }

  /** The provider's credentials for `image` (a repository without tag); {} when it has none. */
  async provide(image: string, pod?: PullingPod): Promise<DockerConfig> {
    if (!this.isImageAllowed(image)) return {};
    const log = this.options.log;
    const token = this.spec.tokenAttributes;
    let request: PluginRequest = { image };
    let saCacheKey = '';
    let singleFlightKey = image;
    // Token mode: the credentials are the service account's (verified pulls record it).
    let source: CredentialSource | undefined;
    if (token) {
      const saName = pod?.serviceAccountName ?? '';
      if (saName === '' && token.requireServiceAccount) {
        log?.debug?.(`Service account name is empty for pod ${pod?.namespace ?? ''}/${pod?.name ?? ''}`);
        return {};
      }
      if (saName !== '' && pod) {
        const prepared = await this.serviceAccountRequest(image, pod, token);
        if (!prepared) return {};
        ({ request, saCacheKey, singleFlightKey, source } = prepared);
      }
    }
    const cached = this.cached(image, saCacheKey);
    if (cached) return cached;

    let pending = this.inFlight.get(singleFlightKey);
    if (!pending) {
      pending = this.options.run(request).finally(() => this.inFlight.delete(singleFlightKey));
      this.inFlight.set(singleFlightKey, pending);
    }
    let response: CredentialProviderResponse;
    try {
      response = await pending;
    } catch (error) {
      log?.error(
        `Failed getting credential from external registry credential provider: ${(error as Error).message}`,
      );
      return {};
    }
    if (request.serviceAccountToken && token?.cacheType !== 'Token') {
      // A plugin must not hand the token back as the password unless the cache is keyed by it.
      if (Object.values(response.auth).some((c) => c.password === request.serviceAccountToken)) {
        log?.error(
          `Credential provider plugin returned the service account token as the password for image ${JSON.stringify(image)}, which is not allowed when service account cache type is not set to 'Token'`,
        );
        return {};
      }
    }
    let baseKey: string;
    switch (response.cacheKeyType) {
      case 'Image':
        baseKey = image;
        break;
      case 'Registry':
        baseKey = registryOf(image);
        break;
      case 'Global':
        baseKey = globalCacheKey;
        break;
      default:
        log?.error(
          `credential provider plugin did not return a valid cacheKeyType: ${JSON.stringify(response.cacheKeyType)}`,
        );
        return {};
    }
    const credentials: DockerConfig = {};
    for (const [location, credential] of Object.entries(response.auth))
      credentials[location] = source ? { ...credential, source } : { ...credential };
    const duration = response.cacheDurationMs ?? this.spec.defaultCacheDurationMs ?? 0;
    if (duration > 0) {
      this.cache.set(JSON.stringify([baseKey, saCacheKey]), {
        credentials,
        expiresAt: this.options.clock.now() + duration,
      });
    }
    return credentials;
  }

  /** Token mode: the service account's data and a token bound to the pod; undefined = no credentials. */
  private async serviceAccountRequest(
    image: string,
    pod: PullingPod,
    token: ServiceAccountTokenAttributes,
  ): Promise<
    | { request: PluginRequest; saCacheKey: string; singleFlightKey: string; source: CredentialSource }
    | undefined
  > {
    const { log, serviceAccounts, tokens } = this.options;
    const who = `${pod.namespace}/${pod.serviceAccountName}`;
    let account: ServiceAccountInfo;
    try {
      if (!serviceAccounts) throw new Error('this kubelet has no API server to read service accounts from');
      account = await serviceAccounts(pod.namespace, pod.serviceAccountName);
    } catch (error) {
      log?.error(`Failed to get service account ${who}: ${(error as Error).message}`);
      return undefined;
    }
    const annotations: Record<string, string> = {};
    for (const key of token.requiredServiceAccountAnnotationKeys) {
      if (!(key in account.annotations)) {
        // Workloads opt in by annotating their service account: a missing key is not an error.
        log?.debug?.(`Failed to get service account data ${who}: required annotation ${key} not found`);
        return undefined;
      }
      annotations[key] = account.annotations[key]!;
    }
    for (const key of token.optionalServiceAccountAnnotationKeys)
      if (key in account.annotations) annotations[key] = account.annotations[key]!;
    let saToken: string;
    try {
      if (!tokens) throw new Error('this kubelet has no API server to request service account tokens from');
      saToken = await tokens.getToken({
        namespace: pod.namespace,
        serviceAccountName: pod.serviceAccountName,
        audiences: [token.serviceAccountTokenAudience],
        expirationSeconds: tokenExpirationSeconds,
        boundPod: { name: pod.name, uid: pod.uid },
      });
    } catch (error) {
      log?.error(`Error getting service account token ${who}: ${(error as Error).message}`);
      return undefined;
    }
    const tokenHash = sha256(saToken);
    const sorted = sortedAnnotations(annotations);
    const saKey: unknown[] = [pod.namespace, pod.serviceAccountName, account.uid, sorted];
    if (token.cacheType === 'Token') saKey.push(pod.name, pod.uid, tokenHash);
    return {
      request: { image, serviceAccountToken: saToken, serviceAccountAnnotations: annotations },
      saCacheKey: JSON.stringify(saKey),
      singleFlightKey: JSON.stringify([image, tokenHash, sorted]),
      source: {
        serviceAccount: { uid: account.uid, namespace: pod.namespace, name: pod.serviceAccountName },
      },
    };
  }

  /** Upstream getCachedCredentials: the image's entry, then its registry's, then the global one. */
  private cached(image: string, saCacheKey: string): DockerConfig | undefined {
    const now = this.options.clock.now();
    if (now > this.lastPurge + cachePurgeIntervalMs) {
      for (const [key, entry] of this.cache) if (now > entry.expiresAt) this.cache.delete(key);
      this.lastPurge = now;
    }
    for (const base of [image, registryOf(image), globalCacheKey]) {
      const key = JSON.stringify([base, saCacheKey]);
      const entry = this.cache.get(key);
      if (!entry) continue;
      if (now > entry.expiresAt) {
        this.cache.delete(key);
        continue;
      }
      return entry.credentials;
    }
    return undefined;
  }
}
