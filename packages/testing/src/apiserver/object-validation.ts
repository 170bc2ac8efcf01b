import { badRequest, invalid, type StatusCause } from './api-error';
import {
  containerRestartCauses,
  initContainerForbiddenCauses,
  isSidecar,
} from './container-restart-validation';
import { draCauses } from './dra-validation';
import type { KubeObject } from './kube-object';
import { containerCauses } from './pod-container-validation';
import { podLevelResourceCauses } from './pod-level-validation';
import { podResourceClaimCauses } from './pod-resource-claims-validation';
import {
  containerFileKeyRefCauses,
  fileKeyRefVolumeCauses,
  hostnameOverrideCauses,
  seLinuxChangePolicyCauses,
} from './pod-v136-field-validation';
import { apiVersionOf, type ResourceType } from './resource-types';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const COMMON_TOP = ['apiVersion', 'kind', 'metadata'];
/** Top-level fields per kind; anything else is an unknown field (strict decoding). */
const TOP_FIELDS: Record<string, string[]> = {
  Namespace: ['spec', 'status'],
  Node: ['spec', 'status'],
  Pod: ['spec', 'status'],
  Service: ['spec', 'status'],
  Endpoints: ['subsets'],
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Event: [
    'involvedObject',
    'reason',
    'message',
    'source',
    'firstTimestamp',
    'lastTimestamp',
    'count',
    'type',
    'eventTime',
    'series',
    'action',
    'related',
    'reportingComponent',
    'reportingInstance',
  ],
  EndpointSlice: ['addressType', 'endpoints', 'ports'],
  Lease: ['spec'],
  ReplicaSet: ['spec', 'status'],
  Deployment: ['spec', 'status'],
  DeviceClass: ['spec'],
  ResourceClaim: ['spec', 'status'],
  ResourceClaimTemplate: ['spec'],
  ResourceSlice: ['spec'],
};

const META_FIELDS = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

const SPEC_FIELDS: Record<string, string[]> = {
  Service: [
    'ports',
    'selector',
    'clusterIP',
    'clusterIPs',
    'type',
    'externalIPs',
    'sessionAffinity',
    'loadBalancerIP',
    'loadBalancerSourceRanges',
    'externalName',
    'externalTrafficPolicy',
    'healthCheckNodePort',
    'publishNotReadyAddresses',
    'sessionAffinityConfig',
    'ipFamilies',
    'ipFamilyPolicy',
    'allocateLoadBalancerNodePorts',
    'loadBalancerClass',
    'internalTrafficPolicy',
    'trafficDistribution',
  ],
  Lease: [
    'holderIdentity',
    'leaseDurationSeconds',
    'acquireTime',
    'renewTime',
    'leaseTransitions',
    'strategy',
    'preferredHolder',
  ],
  Node: ['podCIDR', 'podCIDRs', 'providerID', 'unschedulable', 'taints', 'configSource', 'externalID'],
  ReplicaSet: ['replicas', 'minReadySeconds', 'selector', 'template'],
  Deployment: [
    'replicas',
    'selector',
    'template',
    'strategy',
    'minReadySeconds',
    'revisionHistoryLimit',
    'paused',
    'progressDeadlineSeconds',
  ],
};

/**
 * The `fieldValidation` query parameter of a write: what the server does with fields its schema
 * does not know (`Strict` refuses the write, `Warn` accepts it with a warning per field, `Ignore`
 * drops them silently). The default, as upstream's, is `Warn`.
 */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Names of fields the schema does not know, as `strict decoding error` reports them. */
export function unknownFields(obj: KubeObject): string[] {
  const kind = obj.kind ?? '';
  const out: string[] = [];
  const top = TOP_FIELDS[kind];
  if (top) for (const k of Object.keys(obj)) if (!COMMON_TOP.includes(k) && !top.includes(k)) out.push(k);
  if (obj.metadata && typeof obj.metadata === 'object') {
    for (const k of Object.keys(obj.metadata)) if (!META_FIELDS.includes(k)) out.push(`metadata.${k}`);
  }
  const spec = SPEC_FIELDS[kind];
  if (spec && obj.spec && typeof obj.spec === 'object') {
    for (const k of Object.keys(obj.spec as object)) if (!spec.includes(k)) out.push(`spec.${k}`);
  }
  return out;
}

/** Check the body is an object of the kind the URL addresses. */
export function checkKind(body: unknown, rt: ResourceType): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`the body of the request was in an unknown format - expected a ${rt.kind} object`);
  }
  const obj = body as KubeObject;
  const apiVersion = apiVersionOf(rt);
  if (obj.kind !== undefined && obj.kind !== rt.kind) {
    throw badRequest(
      `${rt.kind} in version "${rt.version}" cannot be handled as a ${obj.kind}: kind mismatch`,
    );
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  }
  if (obj.metadata !== undefined && (obj.metadata === null || typeof obj.metadata !== 'object')) {
    throw badRequest(
      `${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: metadata must be an object`,
    );
  }
  return { ...obj, apiVersion, kind: rt.kind, metadata: { ...(obj.metadata ?? {}) } };
}

function validName(rt: ResourceType, name: string): string | undefined {
  // CSR names are free-form path segments (the kubelet's node-csr-<base64url digest> has capitals).
  if (rt.kind === 'CertificateSigningRequest') {
    if (name === '.' || name === '..') return `may not be '${name}'`;
    if (name.includes('/') || name.includes('%'))
      return `may not contain '${name.includes('/') ? '/' : '%'}'`;
    return undefined;
  }
  if (rt.kind === 'Service') {
    if (name.length > 63 || !DNS1035_LABEL.test(name)) {
      return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
    }
    return undefined;
  }
  if (rt.nameIsLabel) {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) {
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    }
    return undefined;
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

function portCauses(ports: unknown, field: string, key: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!Array.isArray(ports)) return causes;
  ports.forEach((p, i) => {
    const v = (p as Record<string, unknown>)?.[key];
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65535) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(v)}: must be between 1 and 65535, inclusive`,
        field: `${field}[${i}].${key}`,
      });
    }
  });
  return causes;
}

/** Semantic validation (422 Invalid) of the fields the real server validates and agents rely on. */
export function validateObject(rt: ResourceType, obj: KubeObject): void {
  const causes = objectCauses(rt, obj);
  if (causes.length > 0) throw invalid(rt.kind, rt.group, obj.metadata.name ?? '', causes);
}

/** What validateObject refuses, cause by cause (for strategies that add causes of their own). */
export function objectCauses(rt: ResourceType, obj: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = obj.metadata.name ?? '';
  if (!name) {
    causes.push({
      reason: 'FieldValueRequired',
      message: 'Required value: name or generateName is required',
      field: 'metadata.name',
    });
  } else {
    const problem = validName(rt, name);
    if (problem)
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": ${problem}`,
        field: 'metadata.name',
      });
  }
  for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`,
        field: `metadata.labels`,
      });
    }
    if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k)) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'`,
        field: 'metadata.labels',
      });
    }
  }
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  if (rt.kind === 'Pod') {
    const containers = spec.containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' });
    } else {
      containers.forEach((c, i) => {
        const cc = (c ?? {}) as Record<string, unknown>;
        if (typeof cc.name !== 'string' || !cc.name)
          causes.push({
            reason: 'FieldValueRequired',
            message: 'Required value',
            field: `spec.containers[${i}].name`,
          });
        if (typeof cc.image !== 'string' || !cc.image)
          causes.push({
            reason: 'FieldValueRequired',
            message: 'Required value',
            field: `spec.containers[${i}].image`,
          });
        causes.push(...containerFileKeyRefCauses(cc, `spec.containers[${i}]`));
        causes.push(...containerCauses(spec, cc, `spec.containers[${i}]`));
        causes.push(...containerRestartCauses(cc, `spec.containers[${i}]`));
      });
    }
    const initContainers = Array.isArray(spec.initContainers) ? spec.initContainers : [];
    initContainers.forEach((c, i) => {
      const ic = (c ?? {}) as Record<string, unknown>;
      const field = `spec.initContainers[${i}]`;
      causes.push(...containerFileKeyRefCauses(ic, field));
      // Only a sidecar's hooks are validated; any other init container may not have them at all.
      causes.push(...containerCauses(spec, isSidecar(ic) ? ic : { ...ic, lifecycle: undefined }, field));
      causes.push(...containerRestartCauses(ic, field));
      causes.push(...initContainerForbiddenCauses(ic, field));
    });
    causes.push(...podLevelResourceCauses(spec));
    causes.push(...hostnameOverrideCauses(spec));
    causes.push(...fileKeyRefVolumeCauses(spec));
    causes.push(...seLinuxChangePolicyCauses(spec));
    causes.push(...podResourceClaimCauses(name, spec));
  }
  if (rt.kind === 'Service' && spec.type !== 'ExternalName') {
    causes.push(...portCauses(spec.ports, 'spec.ports', 'port'));
    const type = spec.type ?? 'ClusterIP';
    if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(type as string)) {
      causes.push({
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: "${String(type)}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`,
        field: 'spec.type',
      });
    }
  }
  if (rt.kind === 'ReplicaSet' || rt.kind === 'Deployment') causes.push(...replicaSetCauses(spec));
  if (rt.group === 'resource.k8s.io') causes.push(...draCauses(obj));
  if (rt.kind === 'EndpointSlice') {
    if (!['IPv4', 'IPv6', 'FQDN'].includes(obj.addressType as string)) {
      causes.push({
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: ${JSON.stringify(obj.addressType)}: supported values: "FQDN", "IPv4", "IPv6"`,
        field: 'addressType',
      });
    }
  }
  return causes;
}

/** apps/v1 ReplicaSet and Deployment validation: a non-empty selector the template's labels match, replicas >= 0. */
function replicaSetCauses(spec: Record<string, unknown>): StatusCause[] {
  const causes: StatusCause[] = [];
  const selector = (spec.selector ?? {}) as {
    matchLabels?: Record<string, string>;
    matchExpressions?: unknown[];
  };
  const empty =
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  if (empty) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' });
  const labels = ((spec.template as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata
    ?.labels ?? {}) as Record<string, string>;
  if (!empty && !Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v)) {
    causes.push({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: map[string]string(nil): `selector` does not match template `labels`',
      field: 'spec.template.metadata.labels',
    });
  }
  const replicas = spec.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || (replicas as number) < 0)) {
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      field: 'spec.replicas',
    });
  }
  return causes;
}
