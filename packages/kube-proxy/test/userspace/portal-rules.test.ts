import { renderRestore } from '@nodeagent/netfilter/iptables';
import { describe, expect, it } from 'vitest';
import { servicePortsFromService } from '../../src/model/service-port';
import { buildPortalRuleset } from '../../src/userspace/build-portal-rules';
import { service } from './loopback-helpers';

describe('buildPortalRuleset', () => {
  const ports = servicePortsFromService(
    service(
      'web',
      '10.96.0.10',
      [
        { name: 'http', port: 80 },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
      { type: 'NodePort', externalIPs: ['192.0.2.7'] },
    ),
    'IPv4',
  );
  const http = ports.get('default/web:http')!;
  const dns = ports.get('default/web:dns')!;
  const withNodePorts = [
    { servicePort: { ...http, nodePort: 30080 }, proxyPort: 41000 },
    { servicePort: { ...dns, nodePort: 30053 }, proxyPort: 41001 },
  ];

  it('redirects cluster and external IPs to the proxy port in both portal chains', () => {
    const text = renderRestore(buildPortalRuleset('ipv4', withNodePorts));
    for (const chain of ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST']) {
      expect(text).toContain(
        `-A ${chain} -m comment --comment "default/web:http cluster IP" -p tcp -d 10.96.0.10/32 -m tcp --dport 80 -j REDIRECT --to-ports 41000`,
      );
      expect(text).toContain(
        `-A ${chain} -m comment --comment "default/web:http external IP" -p tcp -d 192.0.2.7/32 -m tcp --dport 80 -j REDIRECT --to-ports 41000`,
      );
      expect(text).toContain(
        `-A ${chain} -m comment --comment "default/web:dns cluster IP" -p udp -d 10.96.0.10/32 -m udp --dport 53 -j REDIRECT --to-ports 41001`,
      );
    }
  });

  it('redirects node ports in the nodeport chains', () => {
    const text = renderRestore(buildPortalRuleset('ipv4', withNodePorts));
    for (const chain of ['KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST']) {
      expect(text).toContain(
        `-A ${chain} -m comment --comment "default/web:http node port" -p tcp -m tcp --dport 30080 -j REDIRECT --to-ports 41000`,
      );
    }
  });

  it('declares all four chains even when empty, so a restore flushes stale rules', () => {
    const text = renderRestore(buildPortalRuleset('ipv4', []));
    for (const chain of [
      'KUBE-PORTALS-CONTAINER',
      'KUBE-PORTALS-HOST',
      'KUBE-NODEPORT-CONTAINER',
      'KUBE-NODEPORT-HOST',
    ])
      expect(text).toContain(`:${chain} - [0:0]`);
    expect(text).not.toContain('REDIRECT');
  });

  it('uses /128 host routes for IPv6', () => {
    const v6 = servicePortsFromService(service('v6', 'fd00::10', [{ name: 'http', port: 80 }]), 'IPv6');
    const text = renderRestore(
      buildPortalRuleset('ipv6', [{ servicePort: v6.get('default/v6:http')!, proxyPort: 40000 }]),
    );
    expect(text).toContain('-d fd00::10/128');
  });
});
