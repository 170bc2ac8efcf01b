/** Static description of one REST resource the fake API server serves. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  /** Subresources beyond the object itself, e.g. `status`, `binding`. */
  subresources: string[];
  /** Field-selector labels this resource accepts besides metadata.name/metadata.namespace. */
  fieldLabels: string[];
  /** Whether spec and status are split (main resource ignores status, status ignores the rest). */
  hasStatus: boolean;
  /** Names must be DNS-1123 labels (63 chars, no dots) rather than subdomains. */
  nameIsLabel: boolean;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function core(
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group: '',
    version: 'v1',
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: [],
    subresources: [],
    fieldLabels: [],
    hasStatus: false,
    nameIsLabel: false,
    ...extra,
  };
}

/** Every resource this server serves. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  core('Namespace', 'namespaces', false, {
    shortNames: ['ns'],
    subresources: ['status'],
    hasStatus: true,
    nameIsLabel: true,
    fieldLabels: ['status.phase'],
  }),
  core('Node', 'nodes', false, {
    shortNames: ['no'],
    subresources: ['status', 'proxy'],
    hasStatus: true,
    fieldLabels: ['spec.unschedulable'],
  }),
  core('Pod', 'pods', true, {
    shortNames: ['po'],
    subresources: [
      'status',
      'binding',
      'eviction',
      'log',
      'exec',
      'attach',
      'portforward',
      'ephemeralcontainers',
      'resize',
    ],
    hasStatus: true,
    fieldLabels: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
  }),
  core('Service', 'services', true, {
    shortNames: ['svc'],
    subresources: ['status'],
    hasStatus: true,
    nameIsLabel: true,
    fieldLabels: ['spec.clusterIP', 'spec.type'],
  }),
  core('Endpoints', 'endpoints', true, { shortNames: ['ep'], singular: 'endpoints' }),
  core('ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  core('Secret', 'secrets', true, { fieldLabels: ['type'] }),
  core('ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'], subresources: ['token'] }),
  core('Event', 'events', true, {
    shortNames: ['ev'],
    fieldLabels: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
  }),
  core('PersistentVolume', 'persistentvolumes', false, {
    shortNames: ['pv'],
    subresources: ['status'],
    hasStatus: true,
  }),
  core('PersistentVolumeClaim', 'persistentvolumeclaims', true, {
    shortNames: ['pvc'],
    subresources: ['status'],
    hasStatus: true,
  }),
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    singular: 'endpointslice',
    namespaced: true,
    shortNames: [],
    subresources: [],
    fieldLabels: ['addressType'],
    hasStatus: false,
    nameIsLabel: false,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    singular: 'lease',
    namespaced: true,
    shortNames: [],
    subresources: [],
    fieldLabels: [],
    hasStatus: false,
    nameIsLabel: false,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    subresources: ['status', 'scale'],
    fieldLabels: [],
    hasStatus: true,
    nameIsLabel: false,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    singular: 'replicaset',
    namespaced: true,
    shortNames: ['rs'],
    subresources: ['status', 'scale'],
    fieldLabels: ['status.replicas'],
    hasStatus: true,
    nameIsLabel: false,
  },
  {
    group: 'certificates.k8s.io',
    version: 'v1',
    kind: 'CertificateSigningRequest',
    plural: 'certificatesigningrequests',
    singular: 'certificatesigningrequest',
    namespaced: false,
    shortNames: ['csr'],
    subresources: ['status', 'approval'],
    fieldLabels: ['spec.signerName'],
    hasStatus: true,
    nameIsLabel: false,
  },
  ...(['CSIDriver', 'CSINode', 'VolumeAttachment'] as const).map(
    (kind): ResourceType => ({
      group: 'storage.k8s.io',
      version: 'v1',
      kind,
      plural: `${kind.toLowerCase()}s`,
      singular: kind.toLowerCase(),
      namespaced: false,
      shortNames: [],
      subresources: kind === 'VolumeAttachment' ? ['status'] : [],
      fieldLabels: [],
      hasStatus: kind === 'VolumeAttachment',
      nameIsLabel: false,
    }),
  ),
  // resource.k8s.io/v1 (dynamic resource allocation, GA in v1.34): no short names, as upstream.
  ...(
    [
      ['DeviceClass', false, false, []],
      ['ResourceClaim', true, true, []],
      ['ResourceClaimTemplate', true, false, []],
      ['ResourceSlice', false, false, ['spec.nodeName', 'spec.driver', 'spec.pool.name']],
    ] as const
  ).map(
    ([kind, namespaced, hasStatus, fieldLabels]): ResourceType => ({
      group: 'resource.k8s.io',
      version: 'v1',
      kind,
      plural: kind === 'DeviceClass' ? 'deviceclasses' : `${kind.toLowerCase()}s`,
      singular: kind.toLowerCase(),
      namespaced,
      shortNames: [],
      subresources: hasStatus ? ['status'] : [],
      fieldLabels: [...fieldLabels],
      hasStatus,
      nameIsLabel: false,
    }),
  ),
];

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

/** Stable key for a resource type: `group/plural` ("" group for core). */
export function resourceKey(rt: ResourceType): string {
  return `${rt.group}/${rt.plural}`;
}

export function findResourceType(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function findResourceTypeByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}
