import type {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CertificatesV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
} from '@kubernetes/client-node';
import { type ApiRequest, apiRequest } from './api-request';

// The node agents' API calls, under the method names and with the parameter and result types of
// client-node's typed API classes (type-only imports: nothing of the generated layer is
// loaded), so code and tests written against those classes take either. Each is one request
// through `apiRequest` (KubeConfig's server, TLS and credentials); results are the server's
// plain JSON, where the classes would have turned timestamps into Date objects.

/** The CoreV1Api calls the kubelet makes. */
export type CoreV1Requests = Pick<
  CoreV1Api,
  | 'createNamespacedEvent'
  | 'createNamespacedPod'
  | 'createNamespacedServiceAccountToken'
  | 'createNode'
  | 'deleteNamespacedPod'
  | 'listPodForAllNamespaces'
  | 'patchNamespacedEvent'
  | 'patchNamespacedPodStatus'
  | 'patchNode'
  | 'patchNodeStatus'
  | 'readNamespacedConfigMap'
  | 'readNamespacedSecret'
  | 'readNode'
>;
/** The CoordinationV1Api calls of the node lease. */
export type CoordinationV1Requests = Pick<
  CoordinationV1Api,
  'createNamespacedLease' | 'readNamespacedLease' | 'replaceNamespacedLease'
>;
/** The CertificatesV1Api calls of certificate bootstrap and rotation. */
export type CertificatesV1Requests = Pick<
  CertificatesV1Api,
  'createCertificateSigningRequest' | 'readCertificateSigningRequest'
>;
/** TokenReview, for the kubelet server's webhook authentication. */
export type AuthenticationV1Requests = Pick<AuthenticationV1Api, 'createTokenReview'>;
/** SubjectAccessReview, for the kubelet server's webhook authorization. */
export type AuthorizationV1Requests = Pick<AuthorizationV1Api, 'createSubjectAccessReview'>;

/** client-node's per-call options: only header middleware (`setHeaderOptions`) is meaningful here. */
type CallOptions = { middleware?: { pre(context: unknown): unknown }[] } | undefined;

/**
 * The headers a call's `setHeaderOptions(...)` middleware would set (a patch's Content-Type):
 * each middleware's `pre` runs against a context that only records them.
 */
function headersOf(options: CallOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const m of options?.middleware ?? [])
    m.pre({
      setHeaderParam: (key: string, value: string) => {
        headers[key.toLowerCase()] = value;
      },
    });
  return headers;
}

/** Path segment; names and namespaces are DNS labels, but never let one change the path. */
const seg = (s: string): string => encodeURIComponent(s);

/** Query parameters: everything in the call's parameter object but the path fields and the body. */
function queryOf(param: object, pathFields: readonly string[]): ApiRequest['query'] {
  const query: NonNullable<ApiRequest['query']> = {};
  for (const [k, v] of Object.entries(param))
    if (k !== 'body' && !pathFields.includes(k) && v !== undefined) query[k] = v as string | number | boolean;
  return query;
}

type Call = <T>(
  method: ApiRequest['method'],
  path: string,
  param: object,
  pathFields: readonly string[],
  options?: unknown,
) => Promise<T>;

function caller(kubeConfig: KubeConfig): Call {
  return (method, path, param, pathFields, options) => {
    const body = (param as { body?: unknown }).body;
    const contentType = headersOf(options as CallOptions)['content-type'];
    return apiRequest(kubeConfig, {
      method,
      path,
      query: queryOf(param, pathFields),
      body,
      // client-node's default for a patch without a strategy header is a JSON patch.
      contentType: contentType ?? (method === 'PATCH' ? 'application/json-patch+json' : undefined),
    });
  };
}

const NAMED = ['name'] as const;
const NAMESPACED = ['namespace'] as const;
const NAMED_NAMESPACED = ['name', 'namespace'] as const;

export function coreV1Requests(kubeConfig: KubeConfig): CoreV1Requests {
  const call = caller(kubeConfig);
  const ns = (n: string) => `/api/v1/namespaces/${seg(n)}`;
  return {
    createNamespacedEvent: (p, o) => call('POST', `${ns(p.namespace)}/events`, p, NAMESPACED, o),
    createNamespacedPod: (p, o) => call('POST', `${ns(p.namespace)}/pods`, p, NAMESPACED, o),
    createNamespacedServiceAccountToken: (p, o) =>
      call('POST', `${ns(p.namespace)}/serviceaccounts/${seg(p.name)}/token`, p, NAMED_NAMESPACED, o),
    createNode: (p, o) => call('POST', '/api/v1/nodes', p, [], o),
    deleteNamespacedPod: (p, o) =>
      call('DELETE', `${ns(p.namespace)}/pods/${seg(p.name)}`, p, NAMED_NAMESPACED, o),
    listPodForAllNamespaces: (p, o) => call('GET', '/api/v1/pods', p ?? {}, [], o),
    patchNamespacedEvent: (p, o) =>
      call('PATCH', `${ns(p.namespace)}/events/${seg(p.name)}`, p, NAMED_NAMESPACED, o),
    patchNamespacedPodStatus: (p, o) =>
      call('PATCH', `${ns(p.namespace)}/pods/${seg(p.name)}/status`, p, NAMED_NAMESPACED, o),
    patchNode: (p, o) => call('PATCH', `/api/v1/nodes/${seg(p.name)}`, p, NAMED, o),
    patchNodeStatus: (p, o) => call('PATCH', `/api/v1/nodes/${seg(p.name)}/status`, p, NAMED, o),
    readNamespacedConfigMap: (p, o) =>
      call('GET', `${ns(p.namespace)}/configmaps/${seg(p.name)}`, p, NAMED_NAMESPACED, o),
    readNamespacedSecret: (p, o) =>
      call('GET', `${ns(p.namespace)}/secrets/${seg(p.name)}`, p, NAMED_NAMESPACED, o),
    readNode: (p, o) => call('GET', `/api/v1/nodes/${seg(p.name)}`, p, NAMED, o),
  };
}

export function coordinationV1Requests(kubeConfig: KubeConfig): CoordinationV1Requests {
  const call = caller(kubeConfig);
  const leases = (n: string) => `/apis/coordination.k8s.io/v1/namespaces/${seg(n)}/leases`;
  return {
    createNamespacedLease: (p, o) => call('POST', leases(p.namespace), p, NAMESPACED, o),
    readNamespacedLease: (p, o) =>
      call('GET', `${leases(p.namespace)}/${seg(p.name)}`, p, NAMED_NAMESPACED, o),
    replaceNamespacedLease: (p, o) =>
      call('PUT', `${leases(p.namespace)}/${seg(p.name)}`, p, NAMED_NAMESPACED, o),
  };
}

export function certificatesV1Requests(kubeConfig: KubeConfig): CertificatesV1Requests {
  const call = caller(kubeConfig);
  const csrs = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
  return {
    createCertificateSigningRequest: (p, o) => call('POST', csrs, p, [], o),
    readCertificateSigningRequest: (p, o) => call('GET', `${csrs}/${seg(p.name)}`, p, NAMED, o),
  };
}

export function authenticationV1Requests(kubeConfig: KubeConfig): AuthenticationV1Requests {
  const call = caller(kubeConfig);
  return {
    createTokenReview: (p, o) => call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', p, [], o),
  };
}

export function authorizationV1Requests(kubeConfig: KubeConfig): AuthorizationV1Requests {
  const call = caller(kubeConfig);
  return {
    createSubjectAccessReview: (p, o) =>
      call('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', p, [], o),
  };
}
