import { createHash } from 'node:crypto';
import type { CredentialSource } from './credential-source';
import type { PodImageCredentials } from './image-pull-manager';
import type { ImagePullCredentials } from './image-pull-records';

/** A credential to try for a pull, with where it came from (none: a node-wide credential). */
export interface TrackedPullAuth {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
  source?: CredentialSource;
}

/**
 * Upstream's AuthConfigHash: the hex SHA-256 of the credential as Go's JSON encoder writes its
 * AuthConfig (username, password, auth, identitytoken, registrytoken; empty ones left out).
 * The server address is not part of the keyring's credential, so not of the hash either.
 */
export function credentialHash(auth: TrackedPullAuth): string {
  const fields: Record<string, string> = {};
  if (auth.username) fields.username = auth.username;
  if (auth.password) fields.password = auth.password;
  if (auth.auth) fields.auth = auth.auth;
  if (auth.identityToken) fields.identitytoken = auth.identityToken;
  if (auth.registryToken) fields.registrytoken = auth.registryToken;
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/**
 * What a pod presents for verification: each pull secret's coordinates and credential hash, and
 * the first service account a credential came through (upstream considers one per pod).
 * Node-wide credentials are left out: they prove nothing about the pod.
 */
export function podImageCredentials(auths: readonly TrackedPullAuth[]): PodImageCredentials {
  const out: PodImageCredentials = { secrets: [] };
  for (const auth of auths) {
    const source = auth.source;
    if (!source) continue;
    if ('secret' in source) out.secrets.push({ ...source.secret, credentialHash: credentialHash(auth) });
    else out.serviceAccount ??= source.serviceAccount;
  }
  return out;
}

/**
 * Upstream trackedToImagePullCreds: who the record lets use the image after a pull with `auth`
 * — the secret or service account it came from, or every pod on the node when the pull needed
 * no pod-scoped credential (anonymous, or a node-wide credential).
 */
export function credentialsUsed(auth: TrackedPullAuth | undefined): ImagePullCredentials {
  const source = auth?.source;
  if (!auth || !source) return { nodePodsAccessible: true };
  if ('secret' in source)
    return { kubernetesSecrets: [{ ...source.secret, credentialHash: credentialHash(auth) }] };
  return { kubernetesServiceAccounts: [source.serviceAccount] };
}

/** The credential as the CRI takes it (its source is the kubelet's business). */
export function criAuth(auth: TrackedPullAuth): Omit<TrackedPullAuth, 'source'> {
  const { source: _source, ...rest } = auth;
  return rest;
}
