import { describe, expect, it } from 'vitest';
import type { Table } from '../src/index';
import {
  quoteToken,
  RestoreWriter,
  type Rule,
  renderRestore,
  renderRuleArgs,
  splitTokens,
} from '../src/iptables/index';

describe('quoting', () => {
  it('leaves single tokens bare and double-quotes multi-word ones', () => {
    expect(quoteToken('ns1/svc1:p80')).toBe('ns1/svc1:p80');
    expect(quoteToken('ns1/svc1:p80 cluster IP')).toBe('"ns1/svc1:p80 cluster IP"');
    expect(quoteToken('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
    expect(quoteToken('')).toBe('""');
  });

  it('splits lines back into the same tokens', () => {
    const tokens = ['-m', 'comment', '--comment', 'a "quoted" \\ word', '-j', 'ACCEPT'];
    expect(splitTokens(tokens.map(quoteToken).join(' '))).toEqual(tokens);
    expect(splitTokens('-m comment --comment "unterminated')).toBeUndefined();
    expect(splitTokens('-A  X   -j  ACCEPT ')).toEqual(['-A', 'X', '-j', 'ACCEPT']);
  });
});

describe('rule rendering', () => {
  it('renders kube-proxy-style clauses in model order', () => {
    const rule: Rule = {
      matches: [
        { kind: 'comment', comment: 'ns1/svc1:p80 cluster IP' },
        { kind: 'protocol', protocol: 'tcp' },
        { kind: 'destination', address: '172.30.0.41/32' },
        { kind: 'port', protocol: 'tcp', destinationPort: 80 },
        { kind: 'source', address: '10.0.0.0/8', negate: true },
      ],
      target: { kind: 'jump', chain: 'KUBE-MARK-MASQ' },
    };
    expect(renderRuleArgs(rule)).toBe(
      '-m comment --comment "ns1/svc1:p80 cluster IP" -p tcp -d 172.30.0.41/32 -m tcp --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
    );
  });

  it('renders statistic, recent, addrtype, conntrack, mark, set and NAT targets', () => {
    const cases: [Rule, string][] = [
      [
        {
          matches: [{ kind: 'statistic', mode: 'random', probability: 1 / 3 }],
          target: { kind: 'jump', chain: 'KUBE-SEP-X' },
        },
        '-m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-X',
      ],
      [
        {
          matches: [
            {
              kind: 'recent',
              name: 'KUBE-SEP-X',
              action: 'rcheck',
              seconds: 10800,
              reap: true,
              side: 'source',
            },
          ],
          target: { kind: 'jump', chain: 'KUBE-SEP-X' },
        },
        '-m recent --rcheck --name KUBE-SEP-X --seconds 10800 --reap --rsource -j KUBE-SEP-X',
      ],
      [
        {
          matches: [{ kind: 'addrtype', destinationType: 'LOCAL', negateDestination: true }],
          target: { kind: 'verdict', verdict: 'RETURN' },
        },
        '-m addrtype ! --dst-type LOCAL -j RETURN',
      ],
      [
        {
          matches: [{ kind: 'conntrack', states: ['INVALID'] }],
          target: { kind: 'verdict', verdict: 'DROP' },
        },
        '-m conntrack --ctstate INVALID -j DROP',
      ],
      [
        {
          matches: [{ kind: 'mark', value: 0x4000, mask: 0x4000, negate: true }],
          target: { kind: 'verdict', verdict: 'RETURN' },
        },
        '-m mark ! --mark 0x00004000/0x00004000 -j RETURN',
      ],
      [{ matches: [], target: { kind: 'mark', op: 'or', value: 0x4000 } }, '-j MARK --or-mark 0x00004000'],
      [{ matches: [], target: { kind: 'mark', op: 'xor', value: 0x4000 } }, '-j MARK --xor-mark 0x00004000'],
      [{ matches: [], target: { kind: 'masquerade', randomFully: true } }, '-j MASQUERADE --random-fully'],
      [
        {
          matches: [{ kind: 'protocol', protocol: 'tcp' }],
          target: { kind: 'dnat', toDestination: '10.180.0.1:80' },
        },
        '-p tcp -j DNAT --to-destination 10.180.0.1:80',
      ],
      [
        { matches: [{ kind: 'set', name: 'KUBE-X', flags: ['dst', 'dst'] }], target: { kind: 'reject' } },
        '-m set --match-set KUBE-X dst,dst -j REJECT',
      ],
      [
        { matches: [], target: { kind: 'reject', with: 'icmp-port-unreachable' } },
        '-j REJECT --reject-with icmp-port-unreachable',
      ],
    ];
    for (const [rule, text] of cases) expect(renderRuleArgs(rule)).toBe(text);
  });
});

describe('restore payload', () => {
  it('declares chains, then rules, deletes stale chains, commits', () => {
    const table: Table = {
      name: 'nat',
      chains: [
        { name: 'KUBE-SERVICES', rules: [{ matches: [], target: { kind: 'jump', chain: 'KUBE-SVC-A' } }] },
        { name: 'KUBE-SVC-A', rules: [] },
        { name: 'POSTROUTING', policy: 'ACCEPT', rules: [] },
      ],
      deleteChains: ['KUBE-SVC-OLD'],
    };
    expect(renderRestore({ family: 'ipv4', tables: [table] })).toBe(
      [
        '*nat',
        ':KUBE-SERVICES - [0:0]',
        ':KUBE-SVC-A - [0:0]',
        ':POSTROUTING ACCEPT [0:0]',
        ':KUBE-SVC-OLD - [0:0]',
        '-A KUBE-SERVICES -j KUBE-SVC-A',
        '-X KUBE-SVC-OLD',
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(renderRestore([table], { flushBuiltinChains: true })).toContain(
      ':POSTROUTING ACCEPT [0:0]\n:KUBE-SVC-OLD - [0:0]\n-F POSTROUTING\n',
    );
  });

  it('writer counts lines and renders nothing when empty', () => {
    const writer = new RestoreWriter();
    expect(writer.toString()).toBe('');
    writer.table('filter').chain('X').rawRule('X', '-j ACCEPT').commit();
    expect(writer.lineCount).toBe(4);
    expect(writer.toString()).toBe('*filter\n:X - [0:0]\n-A X -j ACCEPT\nCOMMIT\n');
  });
});
