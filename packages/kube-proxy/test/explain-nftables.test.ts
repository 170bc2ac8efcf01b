import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatServiceExplanation } from '../src/iptables/index';
import { explainNftablesService } from '../src/nftables/index';

// Input: `nft list table ip kube-proxy` as printed by nft 1.0.6 after applying a rendered script:
// upstream's shape (per-service and per-endpoint chains) and our element-keyed one.
const listing = readFileSync(join(import.meta.dirname, 'fixtures', 'nft-list-table.txt'), 'utf8');
const elementKeyed = readFileSync(
  join(import.meta.dirname, 'fixtures', 'nft-list-table-element-keyed.txt'),
  'utf8',
);

describe('explainNftablesService (element-keyed table)', () => {
  it('follows the dispatch element through the shared chain to the endpoint map', () => {
    const e = explainNftablesService(elementKeyed, 'default/web');
    expect(e.entryRules.map((r) => r.target)).toEqual(['goto cluster-endpoints-2']);
    expect(e.chains.map((c) => c.chain)).toEqual(['cluster-endpoints-2 (10.96.0.10 . tcp . 80)']);
    expect(e.chains[0]!.endpoints.map((x) => x.destination)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(e.chains[0]!.endpoints.every((x) => x.probability === '0.5000000000')).toBe(true);
    expect(formatServiceExplanation(e)).toContain('DNAT 10.0.0.2:8080');
  });

  it('shows eTP=Local paths: cluster endpoints for short-circuited traffic, local ones otherwise', () => {
    const e = explainNftablesService(elementKeyed, 'default/lb');
    const nodePortLocal = e.chains.find((c) => c.chain === 'nodeport-local-endpoints-1 (tcp . 30443)')!;
    expect(nodePortLocal.endpoints.map((x) => x.destination)).toEqual(['10.244.1.5:8443']);
    const vipCluster = e.chains.find((c) => c.chain === 'cluster-endpoints-2 (203.0.113.10 . tcp . 443)')!;
    expect(vipCluster.endpoints.map((x) => x.destination).sort()).toEqual([
      '10.244.1.5:8443',
      '10.244.2.7:8443',
    ]);
    expect(new Set(e.entryRules.map((r) => r.chain))).toEqual(
      new Set(['service-ips', 'service-nodeports', 'firewall-ips']),
    );
  });

  it('shows reject entries for a Service without endpoints', () => {
    const e = explainNftablesService(elementKeyed, 'default/empty');
    expect(e.entryRules.map((r) => r.target)).toEqual(['goto reject-chain', 'goto reject-chain']);
    expect(e.chains).toEqual([]);
  });
});

describe('explainNftablesService (upstream-shaped table)', () => {
  it('finds the dispatch elements, chains and DNAT endpoints of one Service', () => {
    const e = explainNftablesService(listing, 'default/web');
    expect(e.entryRules.map((r) => r.table)).toEqual(['map service-ips']);
    const svc = e.chains.find((c) => c.chain.startsWith('service-'))!;
    expect(svc.endpoints.map((x) => x.destination)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(svc.endpoints.every((x) => x.probability === '0.5000000000')).toBe(true);
  });

  it('shows firewall, nodeport and no-local-endpoint entries of a LoadBalancer', () => {
    const e = explainNftablesService(listing, 'default/lb');
    const maps = new Set(e.entryRules.map((r) => r.chain));
    expect(maps).toEqual(
      new Set([
        'service-ips',
        'service-nodeports',
        'firewall-ips',
        'no-endpoint-services',
        'no-endpoint-nodeports',
      ]),
    );
    expect(e.chains.map((c) => c.chain.split('-')[0]).sort()).toEqual(['external', 'firewall', 'service']);
  });

  it('shows reject entries for a Service without endpoints, and nothing for unknown ones', () => {
    const e = explainNftablesService(listing, 'default/empty');
    expect(e.entryRules.map((r) => r.target)).toEqual(['goto reject-chain', 'goto reject-chain']);
    expect(formatServiceExplanation(explainNftablesService(listing, 'default/we'))).toContain(
      'no rules found',
    );
  });
});

describe('explainNftablesService (per-protocol endpoint maps)', () => {
  // `nft list table` after loading golden/mixed.nft: nft lists a select chain of a `udp dport`
  // map with `udp dport` in the key expression too.
  const perProtocol = readFileSync(join(import.meta.dirname, 'fixtures', 'nft-list-table-udp.txt'), 'utf8');

  it('follows a UDP Service through the udp- chains to the udp- endpoint maps', () => {
    const e = explainNftablesService(perProtocol, 'default/dns');
    expect(e.entryRules.map((r) => r.target).sort()).toEqual([
      'goto udp-cluster-endpoints-2',
      'goto udp-nodeport-external-2',
    ]);
    expect(e.chains.map((c) => c.chain).sort()).toEqual([
      'udp-cluster-endpoints-2 (10.96.0.53 . udp . 53)',
      'udp-nodeport-cluster-endpoints-2 (udp . 30053)',
      'udp-nodeport-external-2 (udp . 30053)',
    ]);
    const clusterIP = e.chains.find((c) => c.chain.startsWith('udp-cluster-endpoints-2'))!;
    expect(clusterIP.endpoints.map((x) => x.chain)).toEqual([
      'udp-service-cluster-endpoints[10.96.0.53 . udp . 53 . 0]',
      'udp-service-cluster-endpoints[10.96.0.53 . udp . 53 . 1]',
    ]);
    const nodePort = e.chains.find((c) => c.chain.startsWith('udp-nodeport-cluster-endpoints-2'))!;
    expect(nodePort.endpoints.map((x) => x.destination)).toEqual(['10.244.1.9:5353', '10.244.2.9:5353']);
  });

  it('keeps TCP Services on the unprefixed chains and maps', () => {
    const e = explainNftablesService(perProtocol, 'default/lb');
    const chains = e.chains.map((c) => c.chain);
    expect(chains).toContain('cluster-endpoints-2 (10.96.0.30 . tcp . 443)');
    expect(chains.some((c) => c.startsWith('udp-'))).toBe(false);
  });
});
