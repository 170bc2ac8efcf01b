import { BoundTokenCache, type BoundTokenRequest } from './bound-token-cache';
import type { CsiTokenRequester, CsiTokenStatus } from './csi/csi-service-account-tokens';
import type { TokenSource } from './volume-payloads';

/** The TokenRequest call under client-node's method name (CoreV1Api). */
export interface ServiceAccountTokenRequests {
  /** POST serviceaccounts/<name>/token: a TokenRequest, answered with its status. */
  createNamespacedServiceAccountToken(param: {
    name: string;
    namespace: string;
    body: {
      spec: {
        audiences: string[];
        expirationSeconds?: number;
        boundObjectRef: { apiVersion: string; kind: string; name: string; uid: string };
      };
    };
  }): Promise<{ status?: { token?: string; expirationTimestamp?: unknown } }>;
}

/**
 * Upstream's token manager: service account tokens through the TokenRequest API, bound to the
 * pod, each reused until 80 % of its lifetime has passed (BoundTokenCache). One serves the kubelet's
 * projected volumes, its CSI drivers' tokenRequests and its credential provider plugins, as
 * upstream's one manager does, so a pod's tokens all go when its volumes are torn down (forgetPod,
 * upstream's DeleteServiceAccountToken) and expired ones within a minute.
 */
export class ApiServiceAccountTokens implements TokenSource, CsiTokenRequester {
  private readonly cache: BoundTokenCache<CsiTokenStatus>;

  constructor(
    private readonly core: ServiceAccountTokenRequests,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new BoundTokenCache(now);
  }

  /** The token alone (projected serviceAccountToken sources, credential providers). */
  async getToken(request: BoundTokenRequest & { expirationSeconds: number }): Promise<string> {
    return (await this.requestToken(request)).token;
  }

  /** The token and its expiry, as CSI's serviceAccount.tokens carry them; rejects with the API's error. */
  requestToken(request: BoundTokenRequest): Promise<CsiTokenStatus> {
    return this.cache.get(request, async () => {
      const issuedAt = this.now();
      const status = await this.mint(request);
      const expiresAt = status.expirationTimestamp
        ? Date.parse(status.expirationTimestamp)
        : request.expirationSeconds !== undefined
          ? issuedAt + request.expirationSeconds * 1000
          : Number.NaN;
      return { value: status, expiresAt };
    });
  }

  /** The pod's volumes are torn down: its tokens go. */
  forgetPod(uid: string): void {
    this.cache.forgetPod(uid);
  }

  /** How many tokens are held. */
  get size(): number {
    return this.cache.size;
  }

  private async mint(request: BoundTokenRequest): Promise<CsiTokenStatus> {
    const response = await this.core.createNamespacedServiceAccountToken({
      name: request.serviceAccountName,
      namespace: request.namespace,
      body: {
        spec: {
          audiences: request.audiences,
          ...(request.expirationSeconds !== undefined
            ? { expirationSeconds: request.expirationSeconds }
            : {}),
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: request.boundPod.name,
            uid: request.boundPod.uid,
          },
        },
      },
    });
    const expiry = response.status?.expirationTimestamp;
    return {
      token: response.status?.token ?? '',
      // client-node parses the timestamp into a Date; Go writes it with second precision.
      expirationTimestamp:
        expiry instanceof Date ? `${expiry.toISOString().slice(0, 19)}Z` : String(expiry ?? ''),
    };
  }
}
