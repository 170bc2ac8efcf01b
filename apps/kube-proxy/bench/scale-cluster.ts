import type { ApiServer } from '@nodeagent/testing';

// The cluster the scale bench (issue #54) lists: Service i is a ClusterIP with one TCP port and
// one EndpointSlice of `endpoints` ready endpoints, both as a real API server stores them after
// a controller wrote them (server-side managedFields included: an informer receives them, and
// they are a good part of the bytes listed).

export const BENCH_NAMESPACE = 'bench';
export const NODE_NAME = 'bench-node';
/** The Node's InternalIP (TEST-NET-1: nothing routes to it; the daemon only uses it in rules). */
export const NODE_IP = '192.0.2.10';
/** Pod IPs are allocated from here (the daemon's --cluster-cidr). */
export const CLUSTER_CIDR = '10.128.0.0/9';
const CREATED = '2026-01-01T00:00:00Z';

const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** 10.96.0.0/12 from offset 16 on (clear of the kubernetes Service's .1); room for 1M Services. */
export const clusterIP = (i: number): string => dotted((10 << 24) + (96 << 16) + 16 + i);

/** The k-th pod IP of 10.128.0.0/9 (8M addresses). */
export const podIP = (k: number): string => dotted((10 << 24) + (128 << 16) + 2 + k);

function service(i: number) {
  const name = `svc-${i}`;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: BENCH_NAMESPACE,
      labels: { app: name },
      managedFields: [
        {
          manager: 'kubectl-create',
          operation: 'Update',
          apiVersion: 'v1',
          time: CREATED,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': {
              'f:internalTrafficPolicy': {},
              'f:ports': {
                '.': {},
                'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:name': {}, 'f:port': {} },
              },
              'f:selector': {},
              'f:sessionAffinity': {},
              'f:type': {},
            },
          },
        },
      ],
    },
    spec: serviceSpec(i),
  };
}

/** The bench's i-th Service's spec as the API server stores it: ClusterIP, one TCP port, the defaults filled in. */
export function serviceSpec(i: number) {
  return {
    clusterIP: clusterIP(i),
    ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
    selector: { app: `svc-${i}` },
    type: 'ClusterIP',
    sessionAffinity: 'None',
    internalTrafficPolicy: 'Cluster',
  };
}

function sliceEndpoint(i: number, j: number, address: string) {
  return {
    addresses: [address],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: `node-${(i + j) % 100}`,
    targetRef: {
      kind: 'Pod',
      namespace: BENCH_NAMESPACE,
      name: `svc-${i}-pod-${j}`,
      uid: `pod-uid-${i}-${j}`,
    },
  };
}

/** The EndpointSlice the EndpointSlice controller writes for Service i; `addresses[j]` is endpoint j's IP. */
export function endpointSlice(i: number, addresses: readonly string[]) {
  const svc = `svc-${i}`;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${svc}-abcde`,
      namespace: BENCH_NAMESPACE,
      labels: {
        'kubernetes.io/service-name': svc,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': CREATED },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: svc,
          uid: `svc-uid-${i}`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'discovery.k8s.io/v1',
          time: CREATED,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:addressType': {},
            'f:endpoints': {},
            'f:metadata': { 'f:labels': {} },
            'f:ports': {},
          },
        },
      ],
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: addresses.map((address, j) => sliceEndpoint(i, j, address)),
  };
}

/** The initial addresses of Service i's endpoints. */
export function initialAddresses(i: number, endpoints: number): string[] {
  return Array.from({ length: endpoints }, (_, j) => podIP(i * endpoints + j));
}

/** Writes the namespace every object of the bench cluster lives in. */
function createNamespace(api: ApiServer): void {
  api.registry.create(api.resource('v1', 'namespaces'), undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: BENCH_NAMESPACE },
  });
}

/**
 * Writes the namespace and `services` Services (no slices, no Node) into the API server: the
 * cluster-sized list a kubelet reads for its service links (the kubelet start-up bench's
 * NA_STARTUP_SERVICES).
 */
export function populateServices(api: ApiServer, services: number): void {
  createNamespace(api);
  const svcType = api.resource('v1', 'services');
  for (let i = 0; i < services; i++) api.registry.create(svcType, BENCH_NAMESPACE, service(i));
}

/** Writes the namespace and the Node kube-proxy runs as, with no Service yet. */
export function populateNode(api: ApiServer): void {
  createNamespace(api);
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE_NAME },
    // kube-proxy reads its host IPs from the Node at start (and waits ~31 s for them).
    status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] },
  });
}

/** Writes Service i and its slice of `endpoints` endpoints. */
export function addService(api: ApiServer, i: number, endpoints: number): void {
  api.registry.create(api.resource('v1', 'services'), BENCH_NAMESPACE, service(i));
  api.registry.create(
    api.resource('discovery.k8s.io/v1', 'endpointslices'),
    BENCH_NAMESPACE,
    endpointSlice(i, initialAddresses(i, endpoints)),
  );
}

/** Writes the Node, the namespace and `services` Services with their slices into the API server. */
export function populateCluster(api: ApiServer, services: number, endpoints: number): void {
  populateNode(api);
  for (let i = 0; i < services; i++) addService(api, i, endpoints);
}

/**
 * One endpoint change as a rolling update makes it: Service `i`'s endpoint 0 moves to
 * `address` (a new pod).
 */
export function moveEndpoint(api: ApiServer, i: number, endpoints: number, address: string): void {
  const addresses = initialAddresses(i, endpoints);
  addresses[0] = address;
  const sliceType = api.resource('discovery.k8s.io/v1', 'endpointslices');
  api.registry.update(sliceType, BENCH_NAMESPACE, `svc-${i}-abcde`, endpointSlice(i, addresses));
}

/** The slice warmServerUpdates writes: a headless Service's, which kube-proxy never receives. */
export const WARM_SLICE = 'bench-warm-abcde';

/**
 * Updates a headless Service's EndpointSlice `times` times, so the in-process server's update
 * path (validation, storage, watch fan-out) is compiled before the measured changes: the first
 * endpoint change otherwise carried the bench server's own first-time JavaScript, 1.0-2.3 ms of
 * its write against 0.45 ms later (issue #54), which a real API server, in Go, does not have.
 * kube-proxy's watches select `!service.kubernetes.io/headless`, so the daemon never sees these
 * writes; its informers' resourceVersion moves on only with their bookmarks.
 */
export function warmServerUpdates(api: ApiServer, times: number): void {
  const sliceType = api.resource('discovery.k8s.io/v1', 'endpointslices');
  // TEST-NET-2 addresses, clear of the cluster's pod range; no owner (no such Service exists).
  const slice = (k: number) => {
    const s = endpointSlice(0, [`198.51.100.${1 + (k % 2)}`]);
    const labels = {
      ...s.metadata.labels,
      'kubernetes.io/service-name': 'bench-warm',
      'service.kubernetes.io/headless': '',
    };
    return { ...s, metadata: { ...s.metadata, name: WARM_SLICE, ownerReferences: [], labels } };
  };
  // Scenarios of one shape share the server: the next one finds the slice the first one made.
  if (!api.registry.find(sliceType, BENCH_NAMESPACE, WARM_SLICE))
    api.registry.create(sliceType, BENCH_NAMESPACE, slice(0));
  for (let k = 1; k <= times; k++) api.registry.update(sliceType, BENCH_NAMESPACE, WARM_SLICE, slice(k));
}
