import type { ApiServer } from './api-server';

/** How many Services, and ready endpoints in each one's single EndpointSlice. */
export interface ServiceClusterShape {
  services: number;
  /** At most 254 (the last octet of each endpoint's address). */
  endpointsPerService: number;
  /** Default `default`. */
  namespace?: string;
}

/**
 * Writes a proxy's view of a big cluster straight into the registry (no HTTP): Service `svc-<i>`
 * a ClusterIP 10.96.<i/256>.<i%256> with TCP port 80 (`http`), and its EndpointSlice `svc-<i>-1`
 * of ready endpoints 10.<128+i/256>.<i%256>.<j+1> on port 8080. For kube-proxy tests that need a
 * first sync of a given size; the addresses fit `--cluster-cidr 10.128.0.0/9` up to 32,768 Services.
 */
export function addServiceCluster(api: ApiServer, shape: ServiceClusterShape): void {
  const { services, endpointsPerService, namespace = 'default' } = shape;
  if (endpointsPerService > 254)
    throw new RangeError(`endpointsPerService ${endpointsPerService} is over 254`);
  const serviceType = api.resource('v1', 'services');
  const sliceType = api.resource('discovery.k8s.io/v1', 'endpointslices');
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    api.registry.create(serviceType, namespace, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    api.registry.create(sliceType, namespace, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: endpointsPerService }, (_, j) => ({
        addresses: [`10.${128 + (i >> 8)}.${i & 255}.${j + 1}`],
        conditions: { ready: true },
      })),
    });
  }
}
