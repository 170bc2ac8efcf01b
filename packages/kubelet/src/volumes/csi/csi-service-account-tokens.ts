import type { Pod } from '../../api/pod-types';
import type { BoundTokenRequest } from '../bound-token-cache';
import type { CsiDriverObject } from './csi-storage-objects';

/** A TokenRequest's spec as the kubelet sends it for a CSI driver: the token manager's request, which every token user shares. */
export type CsiTokenRequest = BoundTokenRequest;

/** A TokenRequest's status: the token and when it expires (RFC 3339). */
export interface CsiTokenStatus {
  token: string;
  expirationTimestamp: string;
}

/** Mints service account tokens (serviceaccounts/token), rejecting with the API's error (ApiServiceAccountTokens). */
export interface CsiTokenRequester {
  /** A token for the pod's service account with this audience, and when it expires. */
  requestToken(request: CsiTokenRequest): Promise<CsiTokenStatus>;
}

/** The volume_context key carrying the tokens (upstream's serviceAccount.tokens). */
export const SERVICE_ACCOUNT_TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';

/**
 * Upstream podServiceAccountTokenAttrs: for each of the CSIDriver's tokenRequests a token for the
 * pod's service account, bound to the pod, with that audience (none for an empty one) and
 * expirationSeconds, as `{"<audience>": {"token", "expirationTimestamp"}}` JSON under
 * `csi.storage.k8s.io/serviceAccount.tokens`. Nothing for a driver without tokenRequests; a
 * driver that asks for tokens where none can be minted fails the mount, as upstream's does.
 */
export async function serviceAccountTokenAttrs(
  pod: Pod,
  driver: CsiDriverObject | undefined,
  tokens: CsiTokenRequester | undefined,
): Promise<Record<string, string>> {
  const requests = driver?.spec?.tokenRequests ?? [];
  if (requests.length === 0) return {};
  if (!tokens)
    throw new Error(
      'kubernetes.io/csi: mounter.SetUpAt failed to get service accoount token attributes: ServiceAccountTokenGetter is nil',
    );
  const outputs: Record<string, CsiTokenStatus> = {};
  for (const tr of requests) {
    const audience = tr.audience ?? '';
    let status: CsiTokenStatus;
    try {
      status = await tokens.requestToken({
        namespace: pod.metadata.namespace ?? 'default',
        serviceAccountName: pod.spec.serviceAccountName ?? 'default',
        audiences: audience === '' ? [] : [audience],
        ...(tr.expirationSeconds !== undefined ? { expirationSeconds: tr.expirationSeconds } : {}),
        boundPod: { name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
      });
    } catch (e) {
      throw new Error(
        `kubernetes.io/csi: mounter.SetUpAt failed to get service accoount token attributes: ${(e as Error).message}`,
      );
    }
    outputs[audience] = { token: status.token, expirationTimestamp: status.expirationTimestamp };
  }
  // Go's json.Marshal writes a map's keys sorted.
  const sorted = Object.fromEntries(Object.entries(outputs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { [SERVICE_ACCOUNT_TOKENS_KEY]: JSON.stringify(sorted) };
}
