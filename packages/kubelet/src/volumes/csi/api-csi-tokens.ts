import { type CsiTokenRequester, cachedCsiTokens } from './csi-service-account-tokens';

/** The TokenRequest call under client-node's method name (CoreV1Api). */
export interface CsiTokenRequests {
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
 * Service account tokens for CSI drivers through the TokenRequest API, bound to the pod, each
 * reused until 80 % of its lifetime (cachedCsiTokens).
 */
export function apiCsiTokens(core: CsiTokenRequests, now?: () => number): CsiTokenRequester {
  return cachedCsiTokens(async (req) => {
    const response = await core.createNamespacedServiceAccountToken({
      name: req.serviceAccountName,
      namespace: req.namespace,
      body: {
        spec: {
          audiences: req.audiences,
          ...(req.expirationSeconds !== undefined ? { expirationSeconds: req.expirationSeconds } : {}),
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: req.boundPod.name, uid: req.boundPod.uid },
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
  }, now);
}
