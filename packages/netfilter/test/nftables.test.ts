import { describe, expect, it } from 'vitest';
import { NftTransaction, nftErrorLine, ObjectReferenceError } from '../src/index';
import { InvalidFieldError } from '../src/iptables/index';
import { parseNftJson, parseScript, renderScript } from '../src/nftables/index';
import { FakeNftables } from '../src/testing/index';

function kubeTransaction(): NftTransaction {
  return new NftTransaction()
    .add({ kind: 'table', comment: 'rules for kube-proxy' })
    .add({ kind: 'chain', name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: 'dstnat' })
    .add({ kind: 'chain', name: 'services' })
    .add({ kind: 'chain', name: 'service-ULMVA6XW-ns1/svc1/tcp/p80' })
    .add({
      kind: 'map',
      name: 'service-ips',
      type: 'ipv4_addr . inet_proto . inet_service',
      valueType: 'verdict',
      comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
    })
    .add({ kind: 'set', name: 'affinity', type: 'ipv4_addr', flags: ['timeout'], timeout: '3h' })
    .add({
      kind: 'map',
      name: 'backends',
      typeof: true,
      type: 'ip daddr . numgen random mod 2',
      valueType: 'ip daddr',
    })
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
    })
    .add({
      kind: 'element',
      container: 'service-ips',
      key: ['172.30.0.42', 'tcp', '80'],
      value: ['goto service-ULMVA6XW-ns1/svc1/tcp/p80'],
    });
}

describe('nft script rendering', () => {
  it('renders each verb and merges consecutive element additions', () => {
    const script = renderScript('ip', 'kube-proxy', kubeTransaction());
    const lines = script.trimEnd().split('\n');
    expect(lines[0]).toBe('add table ip kube-proxy { comment "rules for kube-proxy" ; }');
    expect(lines[1]).toBe(
      'add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority dstnat ; }',
    );
    expect(lines).toContain(
      'add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }',
    );
    expect(lines).toContain(
      'add set ip kube-proxy affinity { type ipv4_addr ; flags timeout ; timeout 3h ; }',
    );
    expect(lines).toContain(
      'add map ip kube-proxy backends { typeof ip daddr . numgen random mod 2 : ip daddr ; }',
    );
    expect(lines).toContain(
      'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 meta l4proto tcp dnat to 10.180.0.1:80 comment "ns1/svc1:p80"',
    );
    expect(lines.at(-1)).toBe(
      'add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : goto service-ULMVA6XW-ns1/svc1/tcp/p80, 172.30.0.42 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }',
    );
  });

  it('renders flush, delete by key/handle, insert, replace and emulated destroy', () => {
    const tx = new NftTransaction()
      .flush({ kind: 'chain', name: 'services' })
      .delete({
        kind: 'element',
        container: 'service-ips',
        key: ['172.30.0.41', 'tcp', '80'],
        value: ['drop'],
      })
      .insert({ kind: 'rule', chain: 'services', rule: 'counter' })
      .replace({ kind: 'rule', chain: 'services', rule: 'accept', handle: 7 })
      .delete({ kind: 'rule', chain: 'services', rule: '', handle: 8 })
      .destroy({ kind: 'chain', name: 'old' });
    expect(renderScript('inet', 't', tx)).toBe(
      [
        'flush chain inet t services',
        'delete element inet t service-ips { 172.30.0.41 . tcp . 80 }',
        'insert rule inet t services counter',
        'replace rule inet t services handle 7 accept',
        'delete rule inet t services handle 8',
        'add chain inet t old',
        'delete chain inet t old',
        '',
      ].join('\n'),
    );
    expect(() =>
      renderScript('ip', 't', new NftTransaction().replace({ kind: 'rule', chain: 'c', rule: 'accept' })),
    ).toThrow(InvalidFieldError);
  });

  it('parses its own scripts back into the same operations', () => {
    const tx = kubeTransaction();
    const parsed = parseScript(renderScript('ip', 'kube-proxy', tx), 'ip', 'kube-proxy');
    expect(parsed.operations).toEqual(tx.operations);
  });

  it('finds the failing line in nft errors', () => {
    expect(nftErrorLine('/dev/stdin:3:17-51: Error: syntax error, unexpected quoted string\n')).toBe(3);
    expect(nftErrorLine('Error: Could not process rule: No such file or directory\n')).toBeUndefined();
  });
});

describe('FakeNftables', () => {
  it('applies transactions and dumps/loads its state', async () => {
    const fake = new FakeNftables('ip', 'kube-proxy');
    await fake.run(kubeTransaction());
    const state = await fake.list();
    expect(state.chains.map((c) => c.name)).toEqual([
      'nat-prerouting',
      'services',
      'service-ULMVA6XW-ns1/svc1/tcp/p80',
    ]);
    expect(state.elements['service-ips']).toHaveLength(2);
    expect(state.rules['services']![0]!.handle).toBeGreaterThan(0);
    const copy = new FakeNftables('ip', 'kube-proxy');
    copy.load(fake.dump());
    expect(copy.dump()).toBe(fake.dump());
    expect((await copy.list()).maps[0]!.comment).toBe('ClusterIP, ExternalIP and LoadBalancer IP traffic');
  });

  it('is all-or-nothing and checks references', async () => {
    const fake = new FakeNftables('ip', 'kube-proxy');
    await fake.run(kubeTransaction());
    const before = fake.dump();
    const bad = new NftTransaction()
      .add({ kind: 'chain', name: 'new-chain' })
      .add({ kind: 'rule', chain: 'services', rule: 'goto missing-chain' });
    await expect(fake.run(bad)).rejects.toBeInstanceOf(ObjectReferenceError);
    expect(fake.dump()).toBe(before);
    await expect(
      fake.run(new NftTransaction().delete({ kind: 'chain', name: 'service-ULMVA6XW-ns1/svc1/tcp/p80' })),
    ).rejects.toThrow(/not empty/);
    await expect(
      fake.run(
        new NftTransaction()
          .flush({ kind: 'chain', name: 'service-ULMVA6XW-ns1/svc1/tcp/p80' })
          .delete({ kind: 'chain', name: 'service-ULMVA6XW-ns1/svc1/tcp/p80' }),
      ),
    ).rejects.toThrow(/still referenced by an element of service-ips/);
    await expect(
      fake.run(
        new NftTransaction().add({
          kind: 'element',
          container: 'service-ips',
          key: ['1.2.3.4'],
          value: ['drop'],
        }),
      ),
    ).rejects.toThrow(/needs 3 part/);
    await expect(
      fake.run(
        new NftTransaction().add({
          kind: 'element',
          container: 'service-ips',
          key: ['172.30.0.41', 'tcp', '80'],
          value: ['drop'],
        }),
      ),
    ).rejects.toThrow(/different value/);
    await expect(
      fake.run(new NftTransaction().add({ kind: 'chain', name: 'bad name' })),
    ).rejects.toBeInstanceOf(InvalidFieldError);
    // check() validates without applying.
    await fake.check(
      new NftTransaction().destroy({
        kind: 'element',
        container: 'service-ips',
        key: ['172.30.0.41', 'tcp', '80'],
      }),
    );
    expect(fake.dump()).toBe(before);
  });

  it('supports insert/replace/delete by handle and destroy of missing objects', async () => {
    const fake = new FakeNftables('inet', 'f');
    await fake.run(
      new NftTransaction()
        .add({ kind: 'table' })
        .add({ kind: 'chain', name: 'c' })
        .add({ kind: 'rule', chain: 'c', rule: 'accept' }),
    );
    await fake.run(new NftTransaction().insert({ kind: 'rule', chain: 'c', rule: 'counter' }));
    let rules = (await fake.list()).rules['c']!;
    expect(rules.map((r) => r.rule)).toEqual(['counter', 'accept']);
    await fake.run(
      new NftTransaction().replace({ kind: 'rule', chain: 'c', rule: 'drop', handle: rules[1]!.handle! }),
    );
    await fake.run(
      new NftTransaction().delete({ kind: 'rule', chain: 'c', rule: '', handle: rules[0]!.handle! }),
    );
    rules = (await fake.list()).rules['c']!;
    expect(rules.map((r) => r.rule)).toEqual(['drop']);
    await fake.run(new NftTransaction().destroy({ kind: 'chain', name: 'never-existed' }));
    await fake.run(new NftTransaction().delete({ kind: 'table' }));
    await expect(fake.list()).rejects.toBeInstanceOf(ObjectReferenceError);
  });
});

describe('parseNftJson', () => {
  it('reads tables, base chains, maps with concatenated keys and verdicts, and rule texts', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'ip', name: 'kp', handle: 1 } },
        {
          map: {
            family: 'ip',
            name: 'service-ips',
            table: 'kp',
            type: ['ipv4_addr', 'inet_proto', 'inet_service'],
            handle: 4,
            map: 'verdict',
            elem: [
              [
                { elem: { val: { concat: ['172.30.0.1', 'tcp', 80] }, comment: 'ns1/svc1:p80' } },
                { goto: { target: 'svc' } },
              ],
              [{ concat: ['172.30.0.2', 'udp', 53] }, { accept: null }],
            ],
          },
        },
        {
          set: {
            family: 'ip',
            name: 'aff',
            table: 'kp',
            type: 'ipv4_addr',
            flags: ['timeout'],
            timeout: 10800,
            elem: [{ elem: { val: '10.0.0.1', timeout: 10, expires: 9 } }],
          },
        },
        { chain: { family: 'ip', table: 'kp', name: 'svc', handle: 1 } },
        {
          chain: {
            family: 'ip',
            table: 'kp',
            name: 'pre',
            handle: 3,
            type: 'nat',
            hook: 'prerouting',
            prio: -100,
            policy: 'accept',
          },
        },
        { rule: { family: 'ip', table: 'kp', chain: 'svc', handle: 8, comment: 'svc', expr: [] } },
      ],
    });
    const text =
      'table ip kp { # handle 1\n\tchain svc { # handle 1\n\t\tmeta l4proto tcp dnat to 10.1.0.1:80 comment "svc" # handle 8\n\t}\n}\n';
    const ruleset = parseNftJson(json, text);
    expect(ruleset.family).toBe('ip');
    expect(ruleset.chains[1]).toEqual({
      kind: 'chain',
      name: 'pre',
      type: 'nat',
      hook: 'prerouting',
      priority: 'dstnat',
      policy: 'accept',
    });
    expect(ruleset.maps[0]!.type).toBe('ipv4_addr . inet_proto . inet_service');
    expect(ruleset.elements['service-ips']).toEqual([
      {
        kind: 'element',
        container: 'service-ips',
        key: ['172.30.0.1', 'tcp', '80'],
        value: ['goto svc'],
        comment: 'ns1/svc1:p80',
      },
      { kind: 'element', container: 'service-ips', key: ['172.30.0.2', 'udp', '53'], value: ['accept'] },
    ]);
    expect(ruleset.elements['aff']![0]!.timeout).toBe('10s');
    expect(ruleset.rules['svc']).toEqual([
      { kind: 'rule', chain: 'svc', rule: 'meta l4proto tcp dnat to 10.1.0.1:80', handle: 8, comment: 'svc' },
    ]);
  });
});
