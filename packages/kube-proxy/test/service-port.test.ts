import { describe, expect, it } from 'vitest';
import { servicePortsFromService } from '../src/index';
import { externallyAccessible, usesClusterEndpoints, usesLocalEndpoints } from '../src/model/index';
import { service } from './fixtures';

describe('servicePortsFromService', () => {
  it('builds one entry per port keyed ns/name:port', () => {
    const ports = servicePortsFromService(
      service('web', {
        ports: [
          { name: 'http', port: 80, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      }),
      'IPv4',
    );
    expect([...ports.keys()]).toEqual(['default/web:http', 'default/web:dns']);
    expect(ports.get('default/web:dns')?.protocol).toBe('UDP');
    expect(ports.get('default/web:http')?.clusterIP).toBe('10.96.0.10');
    expect(Object.isFrozen(ports.get('default/web:http'))).toBe(true);
  });

  it('uses ns/name for an unnamed port', () => {
    const ports = servicePortsFromService(service('web', { ports: [{ port: 80 }] }), 'IPv4');
    expect([...ports.keys()]).toEqual(['default/web']);
    expect(ports.get('default/web')?.protocol).toBe('TCP');
  });

  it('skips headless and ExternalName services', () => {
    expect(servicePortsFromService(service('h', { clusterIP: 'None' }), 'IPv4').size).toBe(0);
    expect(
      servicePortsFromService(service('x', { type: 'ExternalName', externalName: 'example.test' }), 'IPv4')
        .size,
    ).toBe(0);
  });

  it('picks the cluster IP and external addresses of its family only', () => {
    const svc = service(
      'dual',
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.20',
        clusterIPs: ['10.96.0.20', 'fd00::20'],
        externalIPs: ['192.0.2.1', '2001:db8::1'],
        loadBalancerSourceRanges: ['203.0.113.0/24', '2001:db8:1::/48'],
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
      },
      {
        loadBalancer: {
          ingress: [{ ip: '198.51.100.1' }, { ip: '2001:db8::99' }, { ip: '198.51.100.2', ipMode: 'Proxy' }],
        },
      },
    );
    const v4 = servicePortsFromService(svc, 'IPv4').get('default/dual:http')!;
    const v6 = servicePortsFromService(svc, 'IPv6').get('default/dual:http')!;
    expect(v4.clusterIP).toBe('10.96.0.20');
    expect(v6.clusterIP).toBe('fd00::20');
    expect(v4.externalIPs).toEqual(['192.0.2.1']);
    expect(v6.externalIPs).toEqual(['2001:db8::1']);
    expect(v4.loadBalancerVIPs).toEqual(['198.51.100.1']);
    expect(v6.loadBalancerVIPs).toEqual(['2001:db8::99']);
    expect(v4.loadBalancerSourceRanges).toEqual(['203.0.113.0/24']);
    expect(v4.nodePort).toBe(30080);
  });

  it('has no entry for a family without a cluster IP', () => {
    expect(servicePortsFromService(service('v4only'), 'IPv6').size).toBe(0);
  });

  it('reads session affinity with upstream default timeout', () => {
    const a = servicePortsFromService(service('a', { sessionAffinity: 'ClientIP' }), 'IPv4');
    expect([...a.values()][0]?.stickyMaxAgeSeconds).toBe(10800);
    const b = servicePortsFromService(
      service('b', {
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      }),
      'IPv4',
    );
    expect([...b.values()][0]?.stickyMaxAgeSeconds).toBe(60);
    expect([...servicePortsFromService(service('c'), 'IPv4').values()][0]?.stickyMaxAgeSeconds).toBe(0);
  });

  it('sets health check node port only for LoadBalancer with eTP=Local', () => {
    const lb = servicePortsFromService(
      service('lb', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 32000,
        ports: [{ name: 'http', port: 80, nodePort: 30001 }],
      }),
      'IPv4',
    );
    const sp = lb.get('default/lb:http')!;
    expect(sp.healthCheckNodePort).toBe(32000);
    expect(sp.externalPolicyLocal).toBe(true);
    const np = servicePortsFromService(
      service('np', {
        type: 'NodePort',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 32001,
        ports: [{ name: 'http', port: 80, nodePort: 30002 }],
      }),
      'IPv4',
    ).get('default/np:http')!;
    expect(np.healthCheckNodePort).toBe(0);
    expect(np.externalPolicyLocal).toBe(true);
  });

  it('ignores eTP=Local on a ClusterIP service with no external IPs', () => {
    const sp = [
      ...servicePortsFromService(service('c', { externalTrafficPolicy: 'Local' }), 'IPv4').values(),
    ][0]!;
    expect(sp.externalPolicyLocal).toBe(false);
    expect(externallyAccessible(sp)).toBe(false);
  });

  it('decides which endpoint sets a port uses', () => {
    const itpLocal = [
      ...servicePortsFromService(service('i', { internalTrafficPolicy: 'Local' }), 'IPv4').values(),
    ][0]!;
    expect(usesClusterEndpoints(itpLocal)).toBe(false);
    expect(usesLocalEndpoints(itpLocal)).toBe(true);
    const etpLocal = [
      ...servicePortsFromService(
        service('e', {
          type: 'NodePort',
          externalTrafficPolicy: 'Local',
          ports: [{ port: 80, nodePort: 30000 }],
        }),
        'IPv4',
      ).values(),
    ][0]!;
    expect(usesClusterEndpoints(etpLocal)).toBe(true);
    expect(usesLocalEndpoints(etpLocal)).toBe(true);
  });
});
