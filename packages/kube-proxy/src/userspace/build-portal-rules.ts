import type { IpFamily, Ruleset } from '@nodeagent/netfilter';
import type { Chain, Match, PortProtocol, Rule } from '@nodeagent/netfilter/iptables';
import { compareStrings } from '../model/compare-strings';
import type { ServicePort } from '../model/service-port';
import {
  KUBE_NODEPORT_CONTAINER,
  KUBE_NODEPORT_HOST,
  KUBE_PORTALS_CONTAINER,
  KUBE_PORTALS_HOST,
} from './portal-chains';

/** A service port and the local port its proxy listens on. */
export interface PortalTarget {
  readonly servicePort: ServicePort;
  readonly proxyPort: number;
}

function redirect(protocol: PortProtocol, matches: readonly Match[], proxyPort: number, text: string): Rule {
  return {
    matches: [{ kind: 'comment', comment: text }, { kind: 'protocol', protocol }, ...matches],
    target: { kind: 'extension', name: 'REDIRECT', args: ['--to-ports', String(proxyPort)] },
  };
}

/**
 * The nat table of userspace mode: every cluster IP, external IP and load-balancer VIP of a
 * service port, and its node port, REDIRECTed to the local port of that port's proxy, in both
 * the CONTAINER (PREROUTING) and HOST (OUTPUT) chains. Declaring the chains in the payload
 * flushes them, so the restore replaces all our rules in one transaction.
 */
export function buildPortalRuleset(family: IpFamily, targets: readonly PortalTarget[]): Ruleset {
  const hostBits = family === 'ipv6' ? 128 : 32;
  const portals: Rule[] = [];
  const nodePorts: Rule[] = [];
  const sorted = [...targets].sort((a, b) => compareStrings(a.servicePort.key, b.servicePort.key));
  for (const { servicePort: sp, proxyPort } of sorted) {
    if (sp.protocol === 'SCTP') continue;
    const protocol = sp.protocol === 'TCP' ? 'tcp' : 'udp';
    const port = (destinationPort: number): Match => ({ kind: 'port', protocol, destinationPort });
    const vips: [string, string][] = [
      [sp.clusterIP, 'cluster IP'],
      ...sp.externalIPs.map((ip): [string, string] => [ip, 'external IP']),
      ...sp.loadBalancerVIPs.map((ip): [string, string] => [ip, 'loadbalancer IP']),
    ];
    for (const [ip, kind] of vips) {
      portals.push(
        redirect(
          protocol,
          [{ kind: 'destination', address: `${ip}/${hostBits}` }, port(sp.port)],
          proxyPort,
          `${sp.key} ${kind}`,
        ),
      );
    }
    if (sp.nodePort !== 0)
      nodePorts.push(redirect(protocol, [port(sp.nodePort)], proxyPort, `${sp.key} node port`));
  }
  const chains: Chain[] = [
    { name: KUBE_PORTALS_CONTAINER, rules: portals },
    { name: KUBE_PORTALS_HOST, rules: portals },
    { name: KUBE_NODEPORT_CONTAINER, rules: nodePorts },
    { name: KUBE_NODEPORT_HOST, rules: nodePorts },
  ];
  return { family, tables: [{ name: 'nat', chains }] };
}
