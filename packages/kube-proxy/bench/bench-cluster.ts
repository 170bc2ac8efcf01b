import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';

// The cluster every kube-proxy benchmark syncs, in the perf notes' shape: Service i is a
// ClusterIP (10.96.x.y) with one TCP port and one EndpointSlice of `endpoints` ready endpoints
// at 10.128.0.0/9 + 16·i; benches change endpoints through `offset`.

export const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export const clusterIP = (i: number): string => dotted((10 << 24) + (96 << 16) + i);

export function benchService(i: number): Wire<V1Service> {
  return {
    metadata: { name: `svc-${i}`, namespace: 'bench' },
    spec: {
      type: 'ClusterIP',
      clusterIP: clusterIP(i),
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  };
}

/** Slice of Service i; endpoint e sits at base + e + offset(e), so a bench moves endpoints by offset. */
export function benchSlice(
  i: number,
  endpoints: number,
  offset: (endpoint: number) => number = () => 0,
): Wire<V1EndpointSlice> {
  const base = (10 << 24) + (128 << 16) + i * 16;
  return {
    metadata: {
      name: `svc-${i}-x`,
      namespace: 'bench',
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: endpoints }, (_, e) => ({
      addresses: [dotted(base + e + offset(e))],
      conditions: { ready: true },
      nodeName: `node-${e}`,
    })),
  };
}

/** n Services with their slices, nothing moved yet. */
export function benchCluster(
  n: number,
  endpoints: number,
): { services: Wire<V1Service>[]; slices: Wire<V1EndpointSlice>[] } {
  return {
    services: Array.from({ length: n }, (_, i) => benchService(i)),
    slices: Array.from({ length: n }, (_, i) => benchSlice(i, endpoints)),
  };
}
