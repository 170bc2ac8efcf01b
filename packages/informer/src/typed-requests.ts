import type {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CertificatesV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
} from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { type ApiRequest, apiRequest } from './api-request';

// The node agents' API calls, under the method names and parameters of client-node's typed API
// classes (type-only imports: nothing of the generated layer is loaded). Each is one request
// through `apiRequest` (KubeConfig's server, TLS and credentials), and its result is the server's
// JSON: typed as `Wire<…>` of the class's result (timestamps are strings, never the Date objects
// the classes' deserializer would have made). A body may be either form: both serialize alike.
//
// Two views of each set: `…WireRequests` is what the factories below return (results exactly
// the server's JSON); `…Requests` is what code taking the calls accepts, client-node's own class
// or a factory's object, so a result may be either form (`Date | string` timestamps) and such
// code must read both.

/**
 * One client-node call as these requests make it: wire-form result, and a parameter object whose
 * `body` (when the call has one) may be in either form (the wire type is spelled out here rather
 * than named, so the public type refers to nothing the package does not export).
 */
export type WireCall<F> = F extends (param: infer P, options?: infer O) => Promise<infer R>
  ? (
      param: P extends { body: infer B } ? Omit<P, 'body'> & { body: B | Wire<B> } : P,
      options?: O,
    ) => Promise<Wire<R>>
  : never;
/** One client-node call made by either client-node's class or these requests: either result form. */
export type EitherCall<F> = F extends (param: infer P, options?: infer O) => Promise<infer R>
  ? (param: P, options?: O) => Promise<R | Wire<R>>
  : never;
/** The named methods of a client-node API class, as wire calls. */
export type WireRequests<Api, K extends keyof Api> = { [M in K]: WireCall<Api[M]> };
/** The named methods of a client-node API class, made by the class itself or as wire calls. */
export type EitherRequests<Api, K extends keyof Api> = { [M in K]: EitherCall<Api[M]> };

/** The names of the CoreV1Api calls the node agents make. */
export type CoreV1Method =
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
  | 'readNamespacedPod'
  | 'readNamespacedSecret'
  | 'readNode';
/** The names of the CoordinationV1Api calls of the node lease. */
export type CoordinationV1Method = 'createNamespacedLease' | 'readNamespacedLease' | 'replaceNamespacedLease';
/** The names of the CertificatesV1Api calls of certificate bootstrap and rotation. */
export type CertificatesV1Method = 'createCertificateSigningRequest' | 'readCertificateSigningRequest';

/** The CoreV1Api calls the kubelet makes, from client-node's CoreV1Api or {@link coreV1Requests}. */
export type CoreV1Requests = EitherRequests<CoreV1Api, CoreV1Method>;
/** The CoreV1Api calls as {@link coreV1Requests} makes them: results are the server's JSON. */
export type CoreV1WireRequests = WireRequests<CoreV1Api, CoreV1Method>;
/** The node lease's CoordinationV1Api calls, from client-node's class or {@link coordinationV1Requests}. */
export type CoordinationV1Requests = EitherRequests<CoordinationV1Api, CoordinationV1Method>;
/** The node lease's calls as {@link coordinationV1Requests} makes them: results are the server's JSON. */
export type CoordinationV1WireRequests = WireRequests<CoordinationV1Api, CoordinationV1Method>;
/** The CSR calls of certificate bootstrap and rotation, from client-node's class or {@link certificatesV1Requests}. */
export type CertificatesV1Requests = EitherRequests<CertificatesV1Api, CertificatesV1Method>;
/** The CSR calls as {@link certificatesV1Requests} makes them: results are the server's JSON. */
export type CertificatesV1WireRequests = WireRequests<CertificatesV1Api, CertificatesV1Method>;
/** TokenReview, for the kubelet server's webhook authentication, from client-node's class or ours. */
export type AuthenticationV1Requests = EitherRequests<AuthenticationV1Api, 'createTokenReview'>;
/** TokenReview as {@link authenticationV1Requests} makes it: the result is the server's JSON. */
export type AuthenticationV1WireRequests = WireRequests<AuthenticationV1Api, 'createTokenReview'>;
/** SubjectAccessReview, for the kubelet server's webhook authorization, from client-node's class or ours. */
export type AuthorizationV1Requests = EitherRequests<AuthorizationV1Api, 'createSubjectAccessReview'>;
/** SubjectAccessReview as {@link authorizationV1Requests} makes it: the result is the server's JSON. */
export type AuthorizationV1WireRequests = WireRequests<AuthorizationV1Api, 'createSubjectAccessReview'>;

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

/** The CoreV1Api calls of {@link CoreV1Requests}, each one request with `kubeConfig`'s server and credentials. */
export function coreV1Requests(kubeConfig: KubeConfig): CoreV1WireRequests {
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
    readNamespacedPod: (p, o) =>
      call('GET', `${ns(p.namespace)}/pods/${seg(p.name)}`, p, NAMED_NAMESPACED, o),
    readNamespacedSecret: (p, o) =>
      call('GET', `${ns(p.namespace)}/secrets/${seg(p.name)}`, p, NAMED_NAMESPACED, o),
    readNode: (p, o) => call('GET', `/api/v1/nodes/${seg(p.name)}`, p, NAMED, o),
  };
}

/** The node lease's Lease calls ({@link CoordinationV1Requests}) through `kubeConfig`. */
export function coordinationV1Requests(kubeConfig: KubeConfig): CoordinationV1WireRequests {
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

/** The CertificateSigningRequest calls ({@link CertificatesV1Requests}) through `kubeConfig`. */
export function certificatesV1Requests(kubeConfig: KubeConfig): CertificatesV1WireRequests {
  const call = caller(kubeConfig);
  const csrs = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
  return {
    createCertificateSigningRequest: (p, o) => call('POST', csrs, p, [], o),
    readCertificateSigningRequest: (p, o) => call('GET', `${csrs}/${seg(p.name)}`, p, NAMED, o),
  };
}

/** TokenReview creation ({@link AuthenticationV1Requests}) through `kubeConfig`. */
export function authenticationV1Requests(kubeConfig: KubeConfig): AuthenticationV1WireRequests {
  const call = caller(kubeConfig);
  return {
    createTokenReview: (p, o) => call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', p, [], o),
  };
}

/** SubjectAccessReview creation ({@link AuthorizationV1Requests}) through `kubeConfig`. */
export function authorizationV1Requests(kubeConfig: KubeConfig): AuthorizationV1WireRequests {
  const call = caller(kubeConfig);
  return {
    createSubjectAccessReview: (p, o) =>
      call('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', p, [], o),
  };
}
