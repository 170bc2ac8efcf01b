import { describe, expect, it } from 'vitest';
import { snapshotFromObjects } from '../src/index';
import {
  endpointChainName,
  explainIptablesService,
  formatServiceExplanation,
  renderIptablesRuleset,
  serviceChainNames,
} from '../src/iptables/index';
import { service, slice } from './fixtures';

function payload() {
  const snapshot = snapshotFromObjects({
    family: 'IPv4',
    nodeName: 'n1',
    services: [
      service('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
      service('other', { clusterIP: '10.96.0.20' }),
      service('web2', { clusterIP: '10.96.0.30' }),
    ],
    endpointSlices: [
      slice('web', [{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }]),
      slice('other', [{ ip: '10.244.9.9' }]),
    ],
  });
  return renderIptablesRuleset(snapshot).payload;
}

describe('explainIptablesService', () => {
  it('follows a Service from its entry rules to its endpoints', () => {
    const e = explainIptablesService(payload(), 'default/web');
    const svc = serviceChainNames('default/web:http', 'TCP');
    expect(e.entryRules.map((r) => r.target).sort()).toEqual([svc.external, svc.cluster].sort());
    const svcChain = e.chains.find((c) => c.chain === svc.cluster)!;
    expect(svcChain.endpoints).toEqual([
      {
        chain: endpointChainName('default/web:http', 'TCP', '10.244.1.1:8080'),
        destination: '10.244.1.1:8080',
        probability: '0.5000000000',
      },
      {
        chain: endpointChainName('default/web:http', 'TCP', '10.244.1.2:8080'),
        destination: '10.244.1.2:8080',
        probability: '1',
      },
    ]);
    expect(e.chains.map((c) => c.chain)).toContain(svc.external);
    const text = formatServiceExplanation(e);
    expect(text).toContain('DNAT 10.244.1.1:8080');
    expect(text).not.toContain('10.244.9.9');
  });

  it('shows the REJECT rule of a Service without endpoints, and does not confuse name prefixes', () => {
    const e = explainIptablesService(payload(), 'default/web2');
    expect(e.entryRules).toHaveLength(1);
    expect(e.entryRules[0]).toMatchObject({ table: 'filter', chain: 'KUBE-SERVICES', target: 'REJECT' });
    expect(e.chains).toEqual([]);
  });

  it('says so when nothing matches', () => {
    const e = explainIptablesService(payload(), 'default/missing');
    expect(formatServiceExplanation(e)).toContain('no rules found');
  });
});
