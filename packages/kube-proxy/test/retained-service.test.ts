import type { V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { ServiceChangeTracker, servicePortsFromService } from '../src/index';
import type { IPFamily } from '../src/model/ip-family';
import { retainedService } from '../src/model/retained-service';
import { service } from './fixtures';

// Issue #54: the Service informer's cache keeps retainedService's form; an update's or a
// deletion's old Service is read from it. Whole or retained, it must give the same changes.

/** A Service with every field servicePortsFromService reads set, and fields it does not. */
function full(name: string, spec: Partial<NonNullable<Wire<V1Service>['spec']>> = {}): Wire<V1Service> {
  const svc = service(
    name,
    {
      type: 'LoadBalancer',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10', 'fd00::10'],
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 as never, nodePort: 30080 },
        {
          name: 'dns',
          port: 53,
          protocol: 'UDP',
          targetPort: 'dns' as never,
          nodePort: 30053,
          appProtocol: 'dns',
        },
      ],
      selector: { app: name },
      externalIPs: ['192.0.2.1', '2001:db8::1'],
      loadBalancerSourceRanges: [' 198.51.100.0/24', '2001:db8:1::/48 '],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Local',
      healthCheckNodePort: 31000,
      trafficDistribution: 'PreferClose',
      ...spec,
    },
    {
      loadBalancer: {
        ingress: [
          { ip: '203.0.113.1', hostname: 'lb.example', ports: [{ port: 80, protocol: 'TCP' }] },
          { ip: '203.0.113.2', ipMode: 'Proxy' },
          { ip: '2001:db8:2::1', ipMode: 'VIP' },
        ],
      },
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'x', reason: 'r', message: 'm' }],
    },
  );
  svc.metadata = {
    ...svc.metadata,
    uid: 'uid-1',
    resourceVersion: '42',
    labels: { app: name },
    annotations: { note: 'x' },
    creationTimestamp: '2026-01-01T00:00:00Z',
  };
  return svc;
}

const variants: Wire<V1Service>[] = [
  full('a'),
  full('a', { type: 'NodePort' }),
  full('a', { type: 'ClusterIP', externalTrafficPolicy: 'Cluster', sessionAffinity: 'None' }),
  full('a', { sessionAffinityConfig: undefined }),
  full('a', { type: 'ExternalName', externalName: 'example.com' }),
  full('a', { clusterIP: 'None', clusterIPs: ['None'] }),
  full('a', { clusterIPs: undefined }),
  { ...full('a'), status: undefined },
];
const families: IPFamily[] = ['IPv4', 'IPv6'];

/** One tracker's checked-out change for the event (previous → current). */
function change(family: IPFamily, previous?: Wire<V1Service>, current?: Wire<V1Service>) {
  const tracker = new ServiceChangeTracker(family);
  tracker.update(previous, current);
  return tracker.checkout();
}

describe('retainedService', () => {
  it('gives the same service ports as the whole Service, for both families', () => {
    for (const svc of variants)
      for (const family of families)
        expect(servicePortsFromService(retainedService(svc), family)).toEqual(
          servicePortsFromService(svc, family),
        );
    // Not vacuous: the whole Service gives ports with every field set.
    const [http] = servicePortsFromService(full('a'), 'IPv4').values();
    expect(http).toMatchObject({
      nodePort: 30080,
      externalIPs: ['192.0.2.1'],
      loadBalancerVIPs: ['203.0.113.1'],
      loadBalancerSourceRanges: ['198.51.100.0/24'],
      stickyMaxAgeSeconds: 600,
      healthCheckNodePort: 31000,
      internalPolicyLocal: true,
      trafficDistribution: 'PreferClose',
    });
  });

  it('gives the same changes on an update and a deletion from the retained old Service', () => {
    let compared = 0;
    for (const family of families)
      for (const old of variants) {
        const kept = retainedService(old);
        expect(change(family, kept, undefined)).toEqual(change(family, old, undefined));
        for (const current of variants) {
          expect(change(family, kept, current)).toEqual(change(family, old, current));
          compared++;
        }
      }
    expect(compared).toBe(families.length * variants.length ** 2);
    // Not vacuous: a change from the retained NodePort form to the LoadBalancer is one.
    expect(change('IPv4', retainedService(variants[1]!), variants[0]).size).toBe(1);
  });

  it('keeps the identity the informer reads and drops what nobody reads', () => {
    const kept = retainedService(full('a'));
    expect(kept.metadata).toEqual({ name: 'a', namespace: 'default', resourceVersion: '42' });
    expect(kept.spec?.selector).toBeUndefined();
    expect(kept.spec?.ports?.[1]).toEqual({ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 });
    expect(kept.status).toEqual({
      loadBalancer: {
        ingress: [
          { ip: '203.0.113.1', ipMode: undefined },
          { ip: '203.0.113.2', ipMode: 'Proxy' },
          { ip: '2001:db8:2::1', ipMode: 'VIP' },
        ],
      },
    });
    expect(JSON.stringify(kept)).not.toMatch(
      /uid-1|annotations|labels|creationTimestamp|targetPort|appProtocol|conditions|hostname|ipFamilyPolicy/,
    );
  });
});
