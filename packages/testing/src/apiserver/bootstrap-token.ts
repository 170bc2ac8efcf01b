import { randomBytes } from 'node:crypto';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';

/** The group kubeadm's bootstrap tokens authenticate into besides system:bootstrappers. */
export const KUBEADM_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';

function randomTokenPart(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

/**
 * What `kubeadm token create` stores: Secret kube-system/bootstrap-token-<id> of type
 * bootstrap.kubernetes.io/token, usable for authentication and signing, in kubeadm's node group,
 * expiring after `ttlSeconds` (default 24 h). Returns the token "<id>.<secret>".
 */
export function createBootstrapTokenSecret(
  registry: ResourceRegistry,
  now: Date,
  ttlSeconds = 86_400,
): string {
  const id = randomTokenPart(6);
  const secret = randomTokenPart(16);
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const secrets = findResourceType('', 'v1', 'secrets') as ResourceType;
  registry.create(secrets, 'kube-system', {
    metadata: { name: `bootstrap-token-${id}` },
    type: 'bootstrap.kubernetes.io/token',
    data: {
      'token-id': b64(id),
      'token-secret': b64(secret),
      expiration: b64(`${new Date(now.getTime() + ttlSeconds * 1000).toISOString().slice(0, 19)}Z`),
      'usage-bootstrap-authentication': b64('true'),
      'usage-bootstrap-signing': b64('true'),
      'auth-extra-groups': b64(KUBEADM_NODE_TOKEN_GROUP),
      description: b64('bootstrap token for the in-process API server'),
    },
  });
  return `${id}.${secret}`;
}
