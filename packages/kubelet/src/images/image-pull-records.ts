import type { ObjectCoordinates } from './credential-source';

/**
 * The records of verified image pulls (KEP-2535) in upstream's on-disk JSON shape
 * (kubelet.config.k8s.io/v1alpha1 ImagePullIntent and ImagePulledRecord), so a node's
 * <root-dir>/image_manager reads the same to this kubelet and to upstream's.
 */
export const imagePullRecordsApiVersion = 'kubelet.config.k8s.io/v1alpha1';

/** A pull secret that pulled an image: its coordinates and the hash of the credential used. */
export interface ImagePullSecretRecord extends ObjectCoordinates {
  credentialHash: string;
}

/** Who may use an image pulled for one repository (upstream ImagePullCredentials). */
export interface ImagePullCredentials {
  kubernetesSecrets?: ImagePullSecretRecord[];
  kubernetesServiceAccounts?: ObjectCoordinates[];
  /** Pulled without pod-scoped credentials: every pod on the node may use it. */
  nodePodsAccessible?: boolean;
}

/** An image id the kubelet pulled, and per repository (no tag or digest) who may use it. */
export interface ImagePulledRecord {
  /** RFC 3339, seconds, UTC. */
  lastUpdatedTime: string;
  imageRef: string;
  credentialMapping: Record<string, ImagePullCredentials>;
}

/** A pull started and not yet finished (or the kubelet stopped before it finished). */
export interface ImagePullIntent {
  image: string;
}

/** Thrown for a record file whose content is not the kind it must hold. */
export class ImagePullRecordError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`image pull record ${file}: ${reason}`);
    this.name = 'ImagePullRecordError';
  }
}

function coordinates(value: ObjectCoordinates): ObjectCoordinates {
  return { uid: value.uid, namespace: value.namespace, name: value.name };
}

/** Upstream's field order, empty lists and false flags left out (Go's omitempty). */
function encodeCredentials(credentials: ImagePullCredentials): ImagePullCredentials {
  const out: ImagePullCredentials = {};
  if (credentials.kubernetesSecrets?.length)
    out.kubernetesSecrets = credentials.kubernetesSecrets.map((s) => ({
      ...coordinates(s),
      credentialHash: s.credentialHash,
    }));
  if (credentials.kubernetesServiceAccounts?.length)
    out.kubernetesServiceAccounts = credentials.kubernetesServiceAccounts.map(coordinates);
  if (credentials.nodePodsAccessible) out.nodePodsAccessible = true;
  return out;
}

export function encodeImagePullIntent(intent: ImagePullIntent): string {
  return JSON.stringify({
    kind: 'ImagePullIntent',
    apiVersion: imagePullRecordsApiVersion,
    image: intent.image,
  });
}

export function encodeImagePulledRecord(record: ImagePulledRecord): string {
  const mapping: Record<string, ImagePullCredentials> = {};
  for (const [image, credentials] of Object.entries(record.credentialMapping))
    mapping[image] = encodeCredentials(credentials);
  return JSON.stringify({
    kind: 'ImagePulledRecord',
    apiVersion: imagePullRecordsApiVersion,
    lastUpdatedTime: record.lastUpdatedTime,
    imageRef: record.imageRef,
    ...(Object.keys(mapping).length > 0 ? { credentialMapping: mapping } : {}),
  });
}

function decodeObject(file: string, text: string, kind: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ImagePullRecordError(file, `not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ImagePullRecordError(file, 'not a JSON object');
  const object = parsed as Record<string, unknown>;
  if (object.kind !== kind || object.apiVersion !== imagePullRecordsApiVersion)
    throw new ImagePullRecordError(
      file,
      `kind ${JSON.stringify(object.kind)} apiVersion ${JSON.stringify(object.apiVersion)}, want ${kind} ${imagePullRecordsApiVersion}`,
    );
  return object;
}

export function decodeImagePullIntent(file: string, text: string): ImagePullIntent {
  const object = decodeObject(file, text, 'ImagePullIntent');
  if (typeof object.image !== 'string') throw new ImagePullRecordError(file, 'image is not a string');
  return { image: object.image };
}

function decodeCoordinates(file: string, value: unknown): ObjectCoordinates {
  const v = (value ?? {}) as Record<string, unknown>;
  for (const key of ['uid', 'namespace', 'name'])
    if (typeof v[key] !== 'string') throw new ImagePullRecordError(file, `${key} is not a string`);
  return coordinates(v as unknown as ObjectCoordinates);
}

export function decodeImagePulledRecord(file: string, text: string): ImagePulledRecord {
  const object = decodeObject(file, text, 'ImagePulledRecord');
  if (typeof object.imageRef !== 'string') throw new ImagePullRecordError(file, 'imageRef is not a string');
  const mapping: Record<string, ImagePullCredentials> = {};
  const raw = (object.credentialMapping ?? {}) as Record<string, Record<string, unknown>>;
  for (const [image, credentials] of Object.entries(raw)) {
    const out: ImagePullCredentials = {};
    if (Array.isArray(credentials.kubernetesSecrets))
      out.kubernetesSecrets = credentials.kubernetesSecrets.map((s: Record<string, unknown>) => ({
        ...decodeCoordinates(file, s),
        credentialHash: typeof s.credentialHash === 'string' ? s.credentialHash : '',
      }));
    if (Array.isArray(credentials.kubernetesServiceAccounts))
      out.kubernetesServiceAccounts = credentials.kubernetesServiceAccounts.map((s) =>
        decodeCoordinates(file, s),
      );
    if (credentials.nodePodsAccessible === true) out.nodePodsAccessible = true;
    mapping[image] = out;
  }
  return {
    lastUpdatedTime: typeof object.lastUpdatedTime === 'string' ? object.lastUpdatedTime : '',
    imageRef: object.imageRef,
    credentialMapping: mapping,
  };
}
