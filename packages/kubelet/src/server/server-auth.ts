import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AuthenticationV1Requests, AuthorizationV1Requests } from '@nodeagent/informer';

/** An authenticated caller, as the authorizer sees it (upstream user.Info). */
export interface UserInfo {
  /** User name, e.g. a client certificate's CN or `system:anonymous`. */
  name: string;
  /** Group names, e.g. the certificate's O entries plus `system:authenticated`. */
  groups: string[];
}

/** Finds who made a request; resolves to undefined when no method identifies the caller (the server answers 401). */
export type Authenticator = (request: IncomingMessage) => Promise<UserInfo | undefined>;

/** What a request asks to do, in upstream's kubelet authorization terms: `verb` on nodes/`subresource` of `nodeName`. */
export interface AuthorizationAttributes {
  /** API verb from the HTTP method ({@link verbForMethod}): get, create, update, patch, delete. */
  verb: string;
  /** nodes/<subresource>: proxy, stats, metrics, log. */
  subresource: string;
  /** The node the kubelet serves. */
  nodeName: string;
}

/** Decides whether `user` may do what `attributes` describe; false makes the server answer 403. */
export type Authorizer = (user: UserInfo, attributes: AuthorizationAttributes) => Promise<boolean>;

/** Upstream's isSubpath: `path` itself or below it (a trailing slash of `base` ignored). */
function isSubpath(path: string, base: string): boolean {
  const root = base.endsWith('/') ? base.slice(0, -1) : base;
  return path === root || (path.startsWith(root) && path[root.length] === '/');
}

/** KubeletFineGrainedAuthz (GA in v1.36): the narrower subresource checked before the broad one. */
const fineGrained: [base: string, subresource: string][] = [
  ['/pods', 'pods'],
  ['/healthz', 'healthz'],
  ['/configz', 'configz'],
  ['/statusz', 'statusz'],
  ['/runningpods/', 'pods'],
];
const broad: [base: string, subresource: string][] = [
  ['/stats/', 'stats'],
  ['/metrics', 'metrics'],
  ['/logs/', 'log'],
  ['/checkpoint/', 'checkpoint'],
];

/**
 * Upstream's nodeAuthorizerAttributesGetter: the nodes subresources a path is authorized as, in
 * the order they are tried (the first one allowed admits the request): a fine-grained one where
 * the path has one (`/pods` → pods, `/healthz` → healthz, …), then stats, metrics, log,
 * checkpoint or, for everything else, proxy. So a client granted only `nodes/pods` reads `/pods`
 * and one granted `nodes/proxy` still reads everything.
 */
export function subresourcesForPath(path: string): string[] {
  const first = fineGrained.find(([base]) => isSubpath(path, base))?.[1];
  const second = broad.find(([base]) => isSubpath(path, base))?.[1] ?? 'proxy';
  return first ? [first, second] : [second];
}

/**
 * HTTP method → API verb, as upstream's GetRequestAttributes maps it; any other method (HEAD,
 * OPTIONS, …) is the empty verb, which no RBAC rule but `*` grants.
 */
export function verbForMethod(method: string | undefined): string {
  switch (method) {
    case 'GET':
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

/** Which of upstream's authentication methods {@link kubeletAuthenticator} accepts. */
export interface AuthenticatorOptions {
  /** Accept verified TLS client certificates (authentication.x509.clientCAFile is set). */
  x509: boolean;
  /** authentication.webhook: bearer tokens checked with TokenReview. */
  tokenReview?: AuthenticationV1Requests;
  /** authentication.anonymous.enabled. */
  anonymous: boolean;
}

/**
 * Upstream's kubelet authenticator chain: a verified client certificate (CN user, O groups),
 * then a bearer token through TokenReview, then system:anonymous if allowed.
 */
export function kubeletAuthenticator(options: AuthenticatorOptions): Authenticator {
  return async (request) => {
    const socket = request.socket as TLSSocket;
    if (options.x509 && typeof socket.getPeerCertificate === 'function' && socket.authorized) {
      const cert = socket.getPeerCertificate();
      const commonName = cert?.subject?.CN;
      const name = Array.isArray(commonName) ? commonName[0] : commonName;
      if (name) {
        const organisation = cert.subject.O;
        const groups = Array.isArray(organisation) ? organisation : organisation ? [organisation] : [];
        return { name, groups: [...groups, 'system:authenticated'] };
      }
    }
    const header = request.headers.authorization;
    if (options.tokenReview && header?.startsWith('Bearer ')) {
      const review = await options.tokenReview.createTokenReview({
        body: { spec: { token: header.slice('Bearer '.length) } },
      });
      if (review.status?.authenticated && review.status.user?.username) {
        return { name: review.status.user.username, groups: review.status.user.groups ?? [] };
      }
      return undefined;
    }
    if (options.anonymous) return { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    return undefined;
  };
}

/** authorization.mode Webhook: a SubjectAccessReview for nodes/<subresource> of this node. */
export function subjectAccessReviewAuthorizer(api: AuthorizationV1Requests): Authorizer {
  return async (user, attributes) => {
    const review = await api.createSubjectAccessReview({
      body: {
        spec: {
          user: user.name,
          groups: user.groups,
          // nodeAuthorizerAttributesGetter's attributes: group "" (omitted), version v1.
          resourceAttributes: {
            verb: attributes.verb,
            version: 'v1',
            resource: 'nodes',
            subresource: attributes.subresource,
            name: attributes.nodeName,
          },
        },
      },
    });
    return review.status?.allowed === true;
  };
}

/** authorization.mode AlwaysAllow: every authenticated caller may do everything (tests, standalone). */
export const alwaysAllow: Authorizer = async () => true;
