import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainNftablesService, formatServiceExplanation } from '../src/index';

// Input: `nft list table ip kube-proxy` as printed by nft 1.0.6 after applying a rendered script.
const listing = readFileSync(join(import.meta.dirname, 'fixtures', 'nft-list-table.txt'), 'utf8');

describe('explainNftablesService', () => {
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
