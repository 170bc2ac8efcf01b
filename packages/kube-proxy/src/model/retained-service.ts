import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';

type Spec = NonNullable<Wire<V1Service>['spec']>;

/** What is kept of one port: the fields servicePortsFromService reads (not targetPort or appProtocol). */
const retainedPort = (p: Wire<V1ServicePort>): Wire<V1ServicePort> => ({
  name: p.name,
  port: p.port,
  protocol: p.protocol,
  nodePort: p.nodePort,
});

function retainedSpec(spec: Spec): Spec {
  return {
    type: spec.type,
    clusterIP: spec.clusterIP,
    clusterIPs: spec.clusterIPs,
    ports: spec.ports?.map(retainedPort),
    externalIPs: spec.externalIPs,
    loadBalancerSourceRanges: spec.loadBalancerSourceRanges,
    sessionAffinity: spec.sessionAffinity,
    sessionAffinityConfig: spec.sessionAffinityConfig,
    externalTrafficPolicy: spec.externalTrafficPolicy,
    internalTrafficPolicy: spec.internalTrafficPolicy,
    healthCheckNodePort: spec.healthCheckNodePort,
    trafficDistribution: spec.trafficDistribution,
  };
}

/**
 * What a Service informer's cache needs to keep of a Service once its handlers have seen it: the
 * cached object is only read again as an update's or a deletion's old Service, which the change
 * tracker turns into service ports (servicePortsFromService), and by the informer itself (name,
 * namespace, resourceVersion). Labels, selector, uid, timestamps, target ports and status
 * conditions are dropped: ~1 kB per Service of the scale bench's 5,000 (issue #54). Every field
 * read by servicePortsFromService must be kept here; test/retained-service.test.ts checks a
 * Service with all of them set gives the same ports whole and retained.
 */
export function retainedService(svc: Wire<V1Service>): Wire<V1Service> {
  const m = svc.metadata;
  const ingress = svc.status?.loadBalancer?.ingress;
  return {
    metadata: { name: m?.name, namespace: m?.namespace, resourceVersion: m?.resourceVersion },
    spec: svc.spec && retainedSpec(svc.spec),
    // Only LoadBalancer ingress IPs (and whether the balancer proxies them) are read.
    status: ingress?.length
      ? { loadBalancer: { ingress: ingress.map((i) => ({ ip: i.ip, ipMode: i.ipMode })) } }
      : undefined,
  };
}
