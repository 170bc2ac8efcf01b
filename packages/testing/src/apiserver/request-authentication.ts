import type { TLSSocket } from 'node:tls';
import { ApiError } from './api-error';
import { type ApiRequest, requestConnection } from './http-exchange';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';
import type { UserInfo } from './user-info';

export type { UserInfo } from './user-info';

/**
 * The identity of requests whose credentials this server does not check (any other bearer token,
 * or none): kubeadm's admin, so existing clients keep full access.
 */
export const ADMIN_USER: Readonly<UserInfo> = Object.freeze({
  username: 'kubernetes-admin',
  uid: '',
  groups: ['system:masters', 'system:authenticated'],
});

/** kubeadm's bootstrap token format: "<6 chars>.<16 chars>" of [a-z0-9]. */
const BOOTSTRAP_TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const BOOTSTRAP_SECRET_TYPE = 'bootstrap.kubernetes.io/token';

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

function secretData(secret: { data?: Record<string, string> }, key: string): string | undefined {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
}

/**
 * A bootstrap token's user (the bootstrap token authenticator): the Secret
 * kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token with a matching
 * token-secret, usage-bootstrap-authentication "true" and no past expiration gives
 * system:bootstrap:<id> in system:bootstrappers plus its auth-extra-groups.
 */
function bootstrapTokenUser(registry: ResourceRegistry, token: string, now: Date): UserInfo | undefined {
  const match = BOOTSTRAP_TOKEN.exec(token);
  if (!match) return undefined;
  const [, id, secretPart] = match as unknown as [string, string, string];
  const secrets = findResourceType('', 'v1', 'secrets') as ResourceType;
  const secret = registry.find(secrets, 'kube-system', `bootstrap-token-${id}`) as
    | { type?: string; data?: Record<string, string> }
    | undefined;
  if (!secret || secret.type !== BOOTSTRAP_SECRET_TYPE) throw unauthorized();
  if (secretData(secret, 'token-secret') !== secretPart) throw unauthorized();
  if (secretData(secret, 'usage-bootstrap-authentication') !== 'true') throw unauthorized();
  const expiration = secretData(secret, 'expiration');
  if (expiration && Date.parse(expiration) <= now.getTime()) throw unauthorized();
  const extra = (secretData(secret, 'auth-extra-groups') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  return {
    username: `system:bootstrap:${id}`,
    uid: '',
    groups: ['system:bootstrappers', ...extra, 'system:authenticated'],
  };
}

/** The user a verified client certificate names: CN is the user, each O a group. */
function certificateUser(socket: TLSSocket): UserInfo {
  const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[]>;
  const organizations = subject.O === undefined ? [] : Array.isArray(subject.O) ? subject.O : [subject.O];
  return {
    username: String(subject.CN ?? ''),
    uid: '',
    groups: [...organizations, 'system:authenticated'],
  };
}

/**
 * Authenticates a request the way kube-apiserver's union authenticator does, for the
 * credentials TLS bootstrapping uses: a client certificate verified against the signing CA, then a
 * bootstrap token. An unverifiable client certificate without other credentials, or a
 * bootstrap-shaped token that does not match its Secret, is 401; any other request is ADMIN_USER.
 */
export function authenticateRequest(req: ApiRequest, registry: ResourceRegistry, now: Date): UserInfo {
  // The connection's TLS socket: over HTTP/2 the session's (which passes these reads to the
  // TLSSocket), as every stream of a session shares its client certificate.
  const socket = requestConnection(req) as TLSSocket | undefined;
  const presented = socket?.encrypted === true && Object.keys(socket.getPeerCertificate?.() ?? {}).length > 0;
  if (socket && presented && socket.authorized) return certificateUser(socket);
  const header = String(req.headers.authorization ?? '');
  const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
  if (token) {
    const user = bootstrapTokenUser(registry, token, now);
    if (user) return user;
  }
  if (presented) throw unauthorized();
  return ADMIN_USER;
}
