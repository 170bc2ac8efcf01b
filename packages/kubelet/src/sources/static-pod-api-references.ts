import type { Container, Pod, Volume } from '../api/pod-types';
import { KubeletError } from '../errors';

/** Volume sources that need no API object (upstream HasAPIObjectReference lets them pass). */
const API_FREE_VOLUME_SOURCES = [
  'awsElasticBlockStore',
  'azureDisk',
  'cephfs',
  'cinder',
  'downwardAPI',
  'emptyDir',
  'fc',
  'flexVolume',
  'flocker',
  'gcePersistentDisk',
  'gitRepo',
  'hostPath',
  'image',
  'iscsi',
  'nfs',
  'photonPersistentDisk',
  'portworxVolume',
  'quobyte',
  'rbd',
  'scaleIO',
  'storageos',
  'vsphereVolume',
] as const;

/** What a volume source references, in upstream's words; undefined when it needs no API object. */
const VOLUME_REFERENCES: Record<string, string> = {
  configMap: 'configmaps (via configmap volumes)',
  secret: 'secrets (via secret volumes)',
  csi: 'csidrivers (via CSI volumes)',
  glusterfs: 'endpoints (via glusterFS volumes)',
  persistentVolumeClaim: 'persistentvolumeclaims',
  ephemeral: 'persistentvolumeclaims (via ephemeral volumes)',
  azureFile: 'secrets (via azureFile volumes)',
};

const PROJECTION_REFERENCES: Record<string, string> = {
  configMap: 'configmaps (via projected volumes)',
  secret: 'secrets (via projected volumes)',
  serviceAccountToken: 'serviceaccounts (via projected volumes)',
  clusterTrustBundle: 'clustertrustbundles',
  podCertificate: 'podcertificates',
};

/** Secret references in sources that name a secretRef (upstream VisitPodSecretNames' volume part). */
const SECRET_REF_SOURCES = [
  'cephfs',
  'cinder',
  'flexVolume',
  'rbd',
  'iscsi',
  'scaleIO',
  'storageos',
] as const;

function allContainers(pod: Pod): Container[] {
  const spec = pod.spec;
  return [
    ...(spec?.initContainers ?? []),
    ...(spec?.containers ?? []),
    ...((spec?.ephemeralContainers ?? []) as Container[]),
  ];
}

function referencesSecrets(pod: Pod): boolean {
  if ((pod.spec?.imagePullSecrets ?? []).length > 0) return true;
  for (const c of allContainers(pod)) {
    if (c.envFrom?.some((e) => e.secretRef)) return true;
    if (c.env?.some((e) => e.valueFrom?.secretKeyRef)) return true;
  }
  for (const v of pod.spec?.volumes ?? []) {
    const source = v as unknown as Record<string, { secretRef?: unknown } | undefined>;
    if (SECRET_REF_SOURCES.some((k) => source[k]?.secretRef)) return true;
    if (v.secret || v.projected?.sources?.some((s) => s.secret)) return true;
    if (v.csi?.nodePublishSecretRef) return true;
    if ((v as { azureFile?: unknown }).azureFile) return true;
  }
  return false;
}

function referencesConfigMaps(pod: Pod): boolean {
  for (const c of allContainers(pod)) {
    if (c.envFrom?.some((e) => e.configMapRef)) return true;
    if (c.env?.some((e) => e.valueFrom?.configMapKeyRef)) return true;
  }
  return (pod.spec?.volumes ?? []).some((v) => v.configMap || v.projected?.sources?.some((s) => s.configMap));
}

/** The API object a volume references, or an error for a source upstream does not know. */
function volumeReference(v: Volume): string | undefined {
  const source = v as unknown as Record<string, unknown>;
  if (API_FREE_VOLUME_SOURCES.some((k) => source[k] !== undefined && source[k] !== null)) return undefined;
  for (const [key, resource] of Object.entries(VOLUME_REFERENCES)) if (source[key]) return resource;
  if (v.projected) {
    for (const projection of v.projected.sources ?? []) {
      const p = projection as Record<string, unknown>;
      if (p.downwardAPI) continue;
      const key = Object.keys(PROJECTION_REFERENCES).find((k) => p[k]);
      if (!key)
        throw invalid(`spec.volumes[${v.name}].projected`, `unknown source for projected volume "${v.name}"`);
      return PROJECTION_REFERENCES[key];
    }
    return undefined;
  }
  throw invalid(`spec.volumes[${v.name}]`, `unknown volume type for volume  "${v.name}"`);
}

/** A static pod refused for what it references; the message is upstream's, whole. */
export class StaticPodApiReferenceError extends KubeletError {
  constructor(field: string, message: string) {
    super('STATIC_POD_API_REFERENCE', field, undefined, message, message);
  }
}

function invalid(field: string, message: string): StaticPodApiReferenceError {
  return new StaticPodApiReferenceError(field, message);
}

/**
 * Upstream's PreventStaticPodAPIReferences (beta, on in v1.36; tryDecodeSinglePod with
 * podutil.HasAPIObjectReference): a static pod that references an API object (its service
 * account, a Secret, a ConfigMap, a ResourceClaim, a claim, a CSI driver…) is refused, as the
 * Node authorizer would refuse its mirror pod's reads anyway. Throws upstream's
 * "static pods may not reference <resource>".
 */
export function refuseStaticPodApiReferences(pod: Pod): void {
  const resource = apiReference(pod);
  if (resource) throw invalid('spec', `static pods may not reference ${resource}`);
}

/** The first API object the pod references, in upstream's order and words. */
function apiReference(pod: Pod): string | undefined {
  const spec = pod.spec;
  if (spec?.serviceAccountName) return 'serviceaccounts';
  if (referencesSecrets(pod)) return 'secrets';
  if (referencesConfigMaps(pod)) return 'configmaps';
  if ((spec?.resourceClaims ?? []).length > 0) return 'resourceclaims';
  for (const v of spec?.volumes ?? []) {
    const resource = volumeReference(v);
    if (resource) return resource;
  }
  return undefined;
}
