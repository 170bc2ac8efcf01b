import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';

/** Builders for the objects tests feed the proxier; defaults are a plain TCP ClusterIP Service. */
export function service(
  name: string,
  spec: Partial<NonNullable<Wire<V1Service>['spec']>> = {},
  status: Wire<V1Service>['status'] = undefined,
  namespace = 'default',
): Wire<V1Service> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 as never }],
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

export interface EndpointSpec {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  zone?: string;
  zoneHints?: string[];
  nodeHints?: string[];
}

export function slice(
  svc: string,
  endpoints: EndpointSpec[],
  opts: {
    name?: string;
    namespace?: string;
    ports?: { name?: string; port: number; protocol?: string }[];
    addressType?: string;
    annotations?: Record<string, string>;
  } = {},
): Wire<V1EndpointSlice> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: opts.name ?? `${svc}-abc`,
      namespace: opts.namespace ?? 'default',
      labels: { 'kubernetes.io/service-name': svc },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    addressType: opts.addressType ?? 'IPv4',
    ports: opts.ports ?? [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.node ? { nodeName: e.node } : {}),
      ...(e.zone ? { zone: e.zone } : {}),
      conditions: {
        ...(e.ready !== undefined ? { ready: e.ready } : {}),
        ...(e.serving !== undefined ? { serving: e.serving } : {}),
        ...(e.terminating !== undefined ? { terminating: e.terminating } : {}),
      },
      ...(e.zoneHints || e.nodeHints
        ? {
            hints: {
              ...(e.zoneHints ? { forZones: e.zoneHints.map((name) => ({ name })) } : {}),
              ...(e.nodeHints ? { forNodes: e.nodeHints.map((name) => ({ name })) } : {}),
            },
          }
        : {}),
    })),
  };
}
