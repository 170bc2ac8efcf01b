import type { ConfigMap, KeyToPath, Pod, Secret, Volume, VolumeProjection } from '../api/pod-types';
import { type DownwardContext, resolveFieldPath, resolveResourceField } from '../env/field-ref';
import type { ObjectSource } from '../env/resolve-env';
import { VolumeSetupError } from '../errors';
import type { FileProjection, Payload } from './atomic-writer';

/** The API's defaultMode of a configMap volume's files (0644) when the volume sets none. */
export const defaultConfigMapMode = 0o644;
/** The API's defaultMode of a secret volume's files (0644) when the volume sets none. */
export const defaultSecretMode = 0o644;
/** The API's defaultMode of a downwardAPI volume's files (0644) when the volume sets none. */
export const defaultDownwardAPIMode = 0o644;
/** The API's defaultMode of a projected volume's files (0644) when the volume sets none. */
export const defaultProjectedMode = 0o644;

/** Issues service account tokens (TokenRequest API) for projected serviceAccountToken sources. */
export interface TokenSource {
  /**
   * A token for the pod's service account with these audiences, valid `expirationSeconds` and
   * bound to the pod (a TokenRequest); rejects with the API error when the request is refused.
   */
  getToken(request: {
    namespace: string;
    serviceAccountName: string;
    audiences: string[];
    expirationSeconds: number;
    boundPod: { name: string; uid: string };
  }): Promise<string>;
  /** The pod's volumes are torn down: its tokens may go (upstream's DeleteServiceAccountToken). */
  forgetPod?(uid: string): void;
}

export interface PayloadContext extends DownwardContext {
  objects: ObjectSource;
  tokens?: TokenSource;
}

function configMapData(configMap: ConfigMap): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(configMap.data ?? {})) out.set(key, Buffer.from(value, 'utf8'));
  for (const [key, value] of Object.entries(configMap.binaryData ?? {}))
    out.set(key, Buffer.from(value, 'base64'));
  return out;
}

function secretData(secret: Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(secret.data ?? {})) out.set(key, Buffer.from(value, 'base64'));
  for (const [key, value] of Object.entries(secret.stringData ?? {}))
    out.set(key, Buffer.from(value, 'utf8'));
  return out;
}

/** Upstream MakePayload: all keys, or only `items` (a missing item key is an error unless optional). */
function keysToPayload(
  data: Map<string, Buffer>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
  what: string,
  payload: Payload,
): void {
  if (!items || items.length === 0) {
    for (const [key, value] of data) payload.set(key, { data: value, mode: defaultMode });
    return;
  }
  for (const item of items) {
    const value = data.get(item.key);
    if (value === undefined) {
      if (optional) continue;
      throw new VolumeSetupError('items.key', item.key, `${what} references non-existent key`);
    }
    payload.set(item.path, { data: value, mode: item.mode ?? defaultMode });
  }
}

async function configMapPayload(
  pod: Pod,
  source: { name?: string; items?: KeyToPath[]; optional?: boolean },
  mode: number,
  context: PayloadContext,
  payload: Payload,
): Promise<void> {
  const namespace = pod.metadata.namespace ?? 'default';
  const name = source.name ?? '';
  const configMap = await context.objects.getConfigMap(namespace, name);
  if (!configMap) {
    if (source.optional) return;
    throw new VolumeSetupError('configMap.name', name, `configmap "${name}" not found`);
  }
  keysToPayload(
    configMapData(configMap),
    source.items,
    mode,
    source.optional ?? false,
    `configmap ${namespace}/${name}`,
    payload,
  );
}

async function secretPayload(
  pod: Pod,
  name: string,
  source: { items?: KeyToPath[]; optional?: boolean },
  mode: number,
  context: PayloadContext,
  payload: Payload,
): Promise<void> {
  const namespace = pod.metadata.namespace ?? 'default';
  const secret = await context.objects.getSecret(namespace, name);
  if (!secret) {
    if (source.optional) return;
    throw new VolumeSetupError('secret.secretName', name, `secret "${name}" not found`);
  }
  keysToPayload(
    secretData(secret),
    source.items,
    mode,
    source.optional ?? false,
    `secret ${namespace}/${name}`,
    payload,
  );
}

function downwardAPIPayload(
  pod: Pod,
  items: NonNullable<NonNullable<Volume['downwardAPI']>['items']>,
  mode: number,
  context: PayloadContext,
  payload: Payload,
): void {
  for (const item of items) {
    let value: string;
    if (item.fieldRef)
      value = resolveFieldPath(
        pod,
        item.fieldRef.fieldPath,
        context,
        `downwardAPI.items[${item.path}].fieldRef`,
      );
    else if (item.resourceFieldRef)
      value = resolveResourceField(pod, undefined, item.resourceFieldRef, context);
    else throw new VolumeSetupError('downwardAPI.items', item.path, 'needs fieldRef or resourceFieldRef');
    payload.set(item.path, { data: value, mode: item.mode ?? mode });
  }
}

async function projectionPayload(
  pod: Pod,
  source: VolumeProjection,
  mode: number,
  context: PayloadContext,
  payload: Payload,
): Promise<void> {
  if (source.configMap) await configMapPayload(pod, source.configMap, mode, context, payload);
  if (source.secret)
    await secretPayload(pod, source.secret.name ?? '', source.secret, mode, context, payload);
  if (source.downwardAPI) downwardAPIPayload(pod, source.downwardAPI.items ?? [], mode, context, payload);
  if (source.serviceAccountToken) {
    if (!context.tokens) {
      throw new VolumeSetupError(
        'projected.serviceAccountToken',
        source.serviceAccountToken.path,
        'no token source (standalone mode)',
      );
    }
    const token = await context.tokens.getToken({
      namespace: pod.metadata.namespace ?? 'default',
      serviceAccountName: pod.spec.serviceAccountName ?? 'default',
      audiences: source.serviceAccountToken.audience ? [source.serviceAccountToken.audience] : [],
      expirationSeconds: source.serviceAccountToken.expirationSeconds ?? 3600,
      boundPod: { name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
    });
    payload.set(source.serviceAccountToken.path, { data: token, mode });
  }
}

/**
 * The files a configMap, secret, downwardAPI or projected volume holds right now; undefined for
 * volume types that are not payload-backed.
 */
export async function volumePayload(
  pod: Pod,
  volume: Volume,
  context: PayloadContext,
): Promise<Payload | undefined> {
  const payload: Payload = new Map<string, FileProjection>();
  if (volume.configMap) {
    await configMapPayload(
      pod,
      volume.configMap,
      volume.configMap.defaultMode ?? defaultConfigMapMode,
      context,
      payload,
    );
  } else if (volume.secret) {
    const mode = volume.secret.defaultMode ?? defaultSecretMode;
    await secretPayload(pod, volume.secret.secretName ?? '', volume.secret, mode, context, payload);
  } else if (volume.downwardAPI) {
    downwardAPIPayload(
      pod,
      volume.downwardAPI.items ?? [],
      volume.downwardAPI.defaultMode ?? defaultDownwardAPIMode,
      context,
      payload,
    );
  } else if (volume.projected) {
    const mode = volume.projected.defaultMode ?? defaultProjectedMode;
    for (const source of volume.projected.sources ?? [])
      await projectionPayload(pod, source, mode, context, payload);
  } else {
    return undefined;
  }
  return payload;
}
