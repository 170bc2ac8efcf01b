import { NetnsScope } from '@nodeagent/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { ApplyError, NftablesClient, type NftRuleset, NftTransaction, netnsRunner } from '../../src/index';
import { FakeNftables } from '../../src/testing/index';

// Real kernel: each case gets its own throwaway network namespace.

function kubeTransaction(): NftTransaction {
  return new NftTransaction()
    .add({ kind: 'table' })
    .add({
      kind: 'chain',
      name: 'nat-prerouting',
      type: 'nat',
      hook: 'prerouting',
      priority: 'dstnat',
      policy: 'accept',
    })
    .add({ kind: 'chain', name: 'services' })
    .add({ kind: 'chain', name: 'service-ULMVA6XW-ns1/svc1/tcp/p80' })
    .add({
      kind: 'map',
      name: 'service-ips',
      type: 'ipv4_addr . inet_proto . inet_service',
      valueType: 'verdict',
      comment: 'ClusterIP',
    })
    .add({ kind: 'set', name: 'affinity', type: 'ipv4_addr', flags: ['timeout'], timeout: '3h' })
    .add({ kind: 'rule', chain: 'nat-prerouting', rule: 'jump services' })
    .add({ kind: 'rule', chain: 'services', rule: 'ip daddr . meta l4proto . th dport vmap @service-ips' })
    .add({
      kind: 'rule',
      chain: 'service-ULMVA6XW-ns1/svc1/tcp/p80',
      rule: 'meta l4proto tcp dnat to 10.180.0.1:80',
      comment: 'ns1/svc1:p80',
    })
    .add({
      kind: 'element',
      container: 'service-ips',
      key: ['172.30.0.41', 'tcp', '80'],
      value: ['goto service-ULMVA6XW-ns1/svc1/tcp/p80'],
      comment: 'ns1/svc1:p80',
    });
}

/** The parts of a ruleset both the kernel and the fake report the same way. */
function comparable(ruleset: NftRuleset) {
  return {
    chains: ruleset.chains.map((c) => ({ ...c })).sort((a, b) => a.name.localeCompare(b.name)),
    rules: Object.fromEntries(
      Object.entries(ruleset.rules).map(([chain, rules]) => [
        chain,
        rules.map((r) => ({ rule: r.rule, comment: r.comment })),
      ]),
    ),
    sets: ruleset.sets.map((s) => ({ name: s.name, type: s.type, flags: s.flags })),
    maps: ruleset.maps.map((m) => ({
      name: m.name,
      type: m.type,
      valueType: m.valueType,
      comment: m.comment,
    })),
    elements: ruleset.elements,
  };
}

describe('nftables client (real kernel)', () => {
  const scope = new NetnsScope('nf-nft');
  afterAll(() => scope.cleanup());

  async function client(): Promise<NftablesClient> {
    const netns = await scope.create();
    return new NftablesClient({ family: 'ip', table: 'kube-proxy', runner: netnsRunner(netns.path) });
  }

  it('applies a transaction and reads back what the fake holds for the same transaction', async () => {
    const nft = await client();
    expect(await nft.exists()).toBe(false);
    await nft.run(kubeTransaction());
    const real = await nft.list();
    const fake = new FakeNftables('ip', 'kube-proxy');
    await fake.run(kubeTransaction());
    expect(comparable(real)).toEqual(comparable(await fake.list()));
    expect(real.chains.find((c) => c.name === 'nat-prerouting')).toMatchObject({
      type: 'nat',
      hook: 'prerouting',
      priority: 'dstnat',
    });
  });

  it('a failed transaction changes nothing and names the failing line', async () => {
    const nft = await client();
    await nft.run(kubeTransaction());
    const before = await nft.list();
    const bad = new NftTransaction()
      .add({ kind: 'chain', name: 'half-done' })
      .add({
        kind: 'element',
        container: 'service-ips',
        key: ['172.30.0.99', 'tcp', '80'],
        value: ['goto service-ULMVA6XW-ns1/svc1/tcp/p80'],
      })
      .add({ kind: 'rule', chain: 'services', rule: 'ip daddr 1.2.3.4 goto no-such-chain' });
    const error = await nft.run(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplyError);
    expect((error as ApplyError).stderr).toMatch(/no-such-chain|No such file/);
    const after = await nft.list();
    expect(comparable(after)).toEqual(comparable(before));
    expect(after.chains.map((c) => c.name)).not.toContain('half-done');
    // A syntax error is reported with its line of the script.
    const syntax = await nft
      .runScript('add chain ip kube-proxy ok-chain\nadd rule ip kube-proxy ok-chain frobnicate\n')
      .catch((e: unknown) => e);
    expect((syntax as ApplyError).line).toBe(2);
    expect((syntax as ApplyError).lineText).toBe('add rule ip kube-proxy ok-chain frobnicate');
  });

  it('check() validates without applying; element changes apply on their own', async () => {
    const nft = await client();
    await nft.run(kubeTransaction());
    const change = new NftTransaction()
      .delete({ kind: 'element', container: 'service-ips', key: ['172.30.0.41', 'tcp', '80'] })
      .add({
        kind: 'element',
        container: 'service-ips',
        key: ['172.30.0.42', 'udp', '53'],
        value: ['goto service-ULMVA6XW-ns1/svc1/tcp/p80'],
      });
    await nft.check(change);
    expect((await nft.list()).elements['service-ips']!.map((e) => e.key.join(' . '))).toEqual([
      '172.30.0.41 . tcp . 80',
    ]);
    await nft.run(change);
    expect((await nft.list()).elements['service-ips']!.map((e) => e.key.join(' . '))).toEqual([
      '172.30.0.42 . udp . 53',
    ]);
    // Emulated destroy (add + delete) needs the set's full definition on nft before 1.0.8.
    const affinity = {
      kind: 'set' as const,
      name: 'affinity',
      type: 'ipv4_addr',
      flags: ['timeout' as const],
      timeout: '3h',
    };
    await nft.run(new NftTransaction().destroy(affinity).destroy(affinity));
    expect((await nft.list()).sets).toEqual([]);
  });
});
