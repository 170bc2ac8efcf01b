import { describe, expect, it } from 'vitest';
import type { NftFamily } from '../src/nftables/index';
import {
  anonymousSetDebugLines,
  compileRule,
  compileRuleExpressions,
  debugLines,
  decodeExpressions,
  type NetlinkSetInfo,
  newRuleBatch,
  type RuleBatchState,
  ruleCommentFromUserdata,
} from '../src/nftables/netlink/rule/index';

// One case per expression kind. The expected lines are what `nft --debug=netlink` (1.0.6)
// printed for the same rule; the real-nft oracle (test/real/nft-rule-oracle.test.ts) checks the
// whole corpus the same way.

const sets = new Map<string, NetlinkSetInfo>([
  ['cluster-ips', { name: 'cluster-ips', keyType: 'ipv4_addr', keyLength: 4, flags: 0 }],
  [
    'service-ips',
    {
      name: 'service-ips',
      keyType: 'ipv4_addr . inet_proto . inet_service',
      keyLength: 12,
      flags: 8,
      valueType: 'verdict',
    },
  ],
  [
    'eps',
    {
      name: 'eps',
      keyType: 'ip daddr . meta l4proto . th dport . numgen random mod 1',
      keyLength: 16,
      flags: 8,
      valueType: 'ip daddr . tcp dport',
    },
  ],
  ['affinity', { name: 'affinity', keyType: 'ipv4_addr', keyLength: 4, flags: 0x14, setId: 7 }],
]);

function compile(rule: string, family: NftFamily = 'ip', batch?: RuleBatchState) {
  let id = 0;
  const compiled = compileRule({
    family,
    table: 't',
    chain: 'c',
    rule,
    sets,
    ...(batch ? { batch } : {}),
    allocateSet: (kind) => ({ name: kind === 'map' ? '__map%d' : '__set%d', setId: ++id }),
  });
  return {
    lines: debugLines(decodeExpressions(compiled.expressions)),
    sets: compiled.anonymousSets.map((s) => anonymousSetDebugLines(s, 't')),
    compiled,
  };
}

const cases: [string, string[], NftFamily?][] = [
  [
    'ip daddr 10.96.0.10 tcp dport 80 jump svc',
    [
      '  [ payload load 4b @ network header + 16 => reg 1 ]',
      '  [ cmp eq reg 1 0x0a00600a ]',
      '  [ meta load l4proto => reg 1 ]',
      '  [ cmp eq reg 1 0x00000006 ]',
      '  [ payload load 2b @ transport header + 2 => reg 1 ]',
      '  [ cmp eq reg 1 0x00005000 ]',
      '  [ immediate reg 0 jump -> svc ]',
    ],
  ],
  [
    'ip saddr != 10.244.0.0/16 drop',
    [
      '  [ payload load 2b @ network header + 12 => reg 1 ]',
      '  [ cmp neq reg 1 0x0000f40a ]',
      '  [ immediate reg 0 drop ]',
    ],
  ],
  [
    'ip saddr 10.16.0.0/12 accept',
    [
      '  [ payload load 4b @ network header + 12 => reg 1 ]',
      '  [ bitwise reg 1 = ( reg 1 & 0x0000f0ff ) ^ 0x00000000 ]',
      '  [ cmp eq reg 1 0x0000100a ]',
      '  [ immediate reg 0 accept ]',
    ],
  ],
  [
    'tcp dport != 1000-2000 accept',
    [
      '  [ meta load l4proto => reg 1 ]',
      '  [ cmp eq reg 1 0x00000006 ]',
      '  [ payload load 2b @ transport header + 2 => reg 1 ]',
      '  [ range neq reg 1 0x0000e803 0x0000d007 ]',
      '  [ immediate reg 0 accept ]',
    ],
  ],
  [
    'ip daddr 10.0.0.1-10.0.0.9 return',
    [
      '  [ payload load 4b @ network header + 16 => reg 1 ]',
      '  [ cmp gte reg 1 0x0100000a ]',
      '  [ cmp lte reg 1 0x0900000a ]',
      '  [ immediate reg 0 return ]',
    ],
  ],
  [
    'ct state new jump firewall-check',
    [
      '  [ ct load state => reg 1 ]',
      '  [ bitwise reg 1 = ( reg 1 & 0x00000008 ) ^ 0x00000000 ]',
      '  [ cmp neq reg 1 0x00000000 ]',
      '  [ immediate reg 0 jump -> firewall-check ]',
    ],
  ],
  [
    'ct state != established continue',
    ['  [ ct load state => reg 1 ]', '  [ cmp neq reg 1 0x00000002 ]', '  [ immediate reg 0 continue ]'],
  ],
  [
    'ct original ip saddr 1.2.3.4 accept',
    [
      '  [ ct load src_ip => reg 1 , dir original ]',
      '  [ cmp eq reg 1 0x04030201 ]',
      '  [ immediate reg 0 accept ]',
    ],
  ],
  [
    'mark and 0x00004000 == 0 return',
    [
      '  [ meta load mark => reg 1 ]',
      '  [ bitwise reg 1 = ( reg 1 & 0x00004000 ) ^ 0x00000000 ]',
      '  [ cmp eq reg 1 0x00000000 ]',
      '  [ immediate reg 0 return ]',
    ],
  ],
  [
    'mark set mark or 0x00004000',
    [
      '  [ meta load mark => reg 1 ]',
      '  [ bitwise reg 1 = ( reg 1 & 0xffffbfff ) ^ 0x00004000 ]',
      '  [ meta set mark with reg 1 ]',
    ],
  ],
  ['meta mark set 0x4000', ['  [ immediate reg 1 0x00004000 ]', '  [ meta set mark with reg 1 ]']],
  ['ct mark set meta mark', ['  [ meta load mark => reg 1 ]', '  [ ct set mark with reg 1 ]']],
  [
    'mark > 0x10 accept',
    [
      '  [ meta load mark => reg 1 ]',
      '  [ byteorder reg 1 = hton(reg 1, 4, 4) ]',
      '  [ cmp gt reg 1 0x10000000 ]',
      '  [ immediate reg 0 accept ]',
    ],
  ],
  [
    'iifname "veth*" accept',
    ['  [ meta load iifname => reg 1 ]', '  [ cmp eq reg 1 0x68746576 ]', '  [ immediate reg 0 accept ]'],
  ],
  [
    'oifname != "eth0" accept',
    [
      '  [ meta load oifname => reg 1 ]',
      '  [ cmp neq reg 1 0x30687465 0x00000000 0x00000000 0x00000000 ]',
      '  [ immediate reg 0 accept ]',
    ],
  ],
  [
    'fib daddr type local ip daddr != 127.0.0.0/8 jump nodeports',
    [
      '  [ fib daddr type => reg 1 ]',
      '  [ cmp eq reg 1 0x00000002 ]',
      '  [ payload load 1b @ network header + 16 => reg 1 ]',
      '  [ cmp neq reg 1 0x0000007f ]',
      '  [ immediate reg 0 jump -> nodeports ]',
    ],
  ],
  [
    'ip daddr @cluster-ips reject',
    [
      '  [ payload load 4b @ network header + 16 => reg 1 ]',
      '  [ lookup reg 1 set cluster-ips ]',
      '  [ reject type 0 code 3 ]',
    ],
  ],
  ['reject', ['  [ reject type 0 code 4 ]'], 'ip6'],
  ['reject', ['  [ reject type 2 code 1 ]'], 'inet'],
  [
    'reject with tcp reset',
    ['  [ meta load l4proto => reg 1 ]', '  [ cmp eq reg 1 0x00000006 ]', '  [ reject type 1 code 0 ]'],
  ],
  ['reject with icmp type admin-prohibited', ['  [ reject type 0 code 13 ]']],
  [
    'ip daddr . meta l4proto . th dport vmap @service-ips',
    [
      '  [ payload load 4b @ network header + 16 => reg 1 ]',
      '  [ meta load l4proto => reg 9 ]',
      '  [ payload load 2b @ transport header + 2 => reg 10 ]',
      '  [ lookup reg 1 set service-ips dreg 0 ]',
    ],
  ],
  [
    'ip6 daddr . meta l4proto . th dport . numgen random mod 3 vmap { fd00::1 . tcp . 80 . 0 : drop }',
    [
      '  [ payload load 16b @ network header + 24 => reg 1 ]',
      '  [ meta load l4proto => reg 2 ]',
      '  [ payload load 2b @ transport header + 2 => reg 13 ]',
      '  [ numgen reg 14 = random mod 3 ]',
      '  [ lookup reg 1 set __map%d dreg 0 ]',
    ],
    'ip6',
  ],
  [
    'dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 2 map @eps',
    [
      '  [ meta load l4proto => reg 1 ]',
      '  [ cmp eq reg 1 0x00000006 ]',
      '  [ payload load 4b @ network header + 16 => reg 1 ]',
      '  [ meta load l4proto => reg 9 ]',
      '  [ payload load 2b @ transport header + 2 => reg 10 ]',
      '  [ numgen reg 11 = random mod 2 ]',
      '  [ lookup reg 1 set eps dreg 1 ]',
      '  [ nat dnat ip addr_min reg 1 proto_min reg 9 ]',
    ],
  ],
  [
    'meta l4proto tcp dnat to 10.244.1.5:8080',
    [
      '  [ meta load l4proto => reg 1 ]',
      '  [ cmp eq reg 1 0x00000006 ]',
      '  [ immediate reg 1 0x0501f40a ]',
      '  [ immediate reg 2 0x0000901f ]',
      '  [ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]',
    ],
  ],
  [
    'meta l4proto tcp dnat to 10.0.0.1-10.0.0.5:80-90',
    [
      '  [ meta load l4proto => reg 1 ]',
      '  [ cmp eq reg 1 0x00000006 ]',
      '  [ immediate reg 1 0x0100000a ]',
      '  [ immediate reg 2 0x0500000a ]',
      '  [ immediate reg 3 0x00005000 ]',
      '  [ immediate reg 4 0x00005a00 ]',
      '  [ nat dnat ip addr_min reg 1 addr_max reg 2 proto_min reg 3 proto_max reg 4 flags 0x2 ]',
    ],
  ],
  ['snat to 1.2.3.4', ['  [ immediate reg 1 0x04030201 ]', '  [ nat snat ip addr_min reg 1 ]']],
  ['masquerade fully-random', ['  [ masq flags 0x10 ]']],
  ['masquerade', ['  [ masq ]']],
  [
    'update @affinity { ip saddr }',
    ['  [ payload load 4b @ network header + 12 => reg 1 ]', '  [ dynset update reg_key 1 set affinity ]'],
  ],
  [
    'add @affinity { ip saddr timeout 10s }',
    [
      '  [ payload load 4b @ network header + 12 => reg 1 ]',
      '  [ dynset add reg_key 1 set affinity timeout 10000ms ]',
    ],
  ],
  ['counter packets 5 bytes 100', ['  [ counter pkts 5 bytes 100 ]']],
  ['log prefix "hi "', ['  [ log prefix hi  ]']],
  ['limit rate 10/second', ['  [ limit rate 10/second burst 5 type packets flags 0x0 ]']],
  ['notrack', ['  [ notrack ]']],
  [
    'tcp dport 2 ip saddr 1.2.3.4 tcp sport 1',
    [
      '  [ meta load l4proto => reg 1 ]',
      '  [ cmp eq reg 1 0x00000006 ]',
      '  [ payload load 4b @ network header + 12 => reg 1 ]',
      '  [ cmp eq reg 1 0x04030201 ]',
      '  [ payload load 4b @ transport header + 0 => reg 1 ]',
      '  [ cmp eq reg 1 0x02000100 ]',
    ],
  ],
  [
    'ip saddr 1.2.3.4',
    [
      '  [ meta load nfproto => reg 1 ]',
      '  [ cmp eq reg 1 0x00000002 ]',
      '  [ payload load 4b @ network header + 12 => reg 1 ]',
      '  [ cmp eq reg 1 0x04030201 ]',
    ],
    'inet',
  ],
];

describe('rule compiler: each expression kind as nft compiles it', () => {
  for (const [rule, lines, family] of cases) {
    it(`${family ?? 'ip'}: ${rule}`, () => {
      expect(compile(rule, family).lines).toEqual(lines);
    });
  }
});

describe('rule compiler: anonymous sets and maps', () => {
  it('a set of protocols becomes a constant anonymous set looked up by id', () => {
    const { lines, sets: anon, compiled } = compile('meta l4proto { tcp, udp } accept');
    expect(anon).toEqual([
      ['__set%d t 3 size 2', '__set%d t 0', '\telement 00000006  : 0 [end]\telement 00000011  : 0 [end]'],
    ]);
    expect(lines[1]).toBe('  [ lookup reg 1 set __set%d ]');
    expect(decodeExpressions(compiled.expressions)[1]).toMatchObject({ kind: 'lookup', setId: 1 });
  });

  it('prefixes and addresses become merged intervals with the leading end key at 0', () => {
    const { sets: anon } = compile(
      'ip saddr { 10.0.0.0/8, 10.1.2.3, 192.168.1.0/24, 192.168.2.0/24 } accept',
    );
    expect(anon[0]?.[0]).toBe('__set%d t 7 size 5');
    expect(anon[0]?.[2]).toBe(
      '\telement 00000000  : 1 [end]\telement 0000000a  : 0 [end]\telement 0000000b  : 1 [end]\telement 0001a8c0  : 0 [end]\telement 0003a8c0  : 1 [end]',
    );
  });

  it('an interval reaching the top of the key space has no end key and says so in userdata', () => {
    const { sets: anon } = compile('ip saddr { 0.0.0.0/1, 255.255.255.255 } accept');
    expect(anon[0]).toEqual([
      '__set%d t 7 size 4',
      '__set%d t 0',
      '\telement 00000000  : 0 [end]\telement 00000080  : 1 [end]\telement ffffffff  : 0 [end]  userdata = { \\x01\\x04\\x01\\x00\\x00\\x00 }',
    ]);
  });

  it('a single-element set is a plain match, a negated set an inverted lookup', () => {
    expect(compile('ip saddr { 10.0.0.1 } drop').sets).toEqual([]);
    expect(compile('ip saddr != { 10.0.0.0/8, 10.9.0.0/16 } drop').lines[1]).toBe(
      '  [ lookup reg 1 set __set%d 0x1 ]',
    );
  });

  it('an anonymous nat map carries address . port values', () => {
    const { lines, sets: anon } = compile(
      'meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.244.0.5 . 8080, 1 : 10.244.1.5 . 8080 }',
    );
    expect(anon[0]).toEqual([
      '__map%d t b size 2',
      '__map%d t 0',
      '\telement 00000000  : 0500f40a 0000901f 0 [end]\telement 00000001  : 0501f40a 0000901f 0 [end]',
    ]);
    expect(lines.slice(2)).toEqual([
      '  [ numgen reg 1 = random mod 2 ]',
      '  [ lookup reg 1 set __map%d dreg 1 ]',
      '  [ nat dnat ip addr_min reg 1 proto_min reg 9 ]',
    ]);
  });
});

describe('rule compiler: batch state and comments', () => {
  it("puts a typeof map value's protocol match only before the batch's first rule using the map", () => {
    const batch = newRuleBatch();
    const rule = 'dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 2 map @eps';
    expect(compile(rule, 'ip', batch).lines[0]).toBe('  [ meta load l4proto => reg 1 ]');
    expect(compile(rule, 'ip', batch).lines[0]).toBe('  [ payload load 4b @ network header + 16 => reg 1 ]');
    // Without batch state every rule gets it.
    expect(compile(rule).lines[0]).toBe('  [ meta load l4proto => reg 1 ]');
  });

  it('writes the comment as nft userdata and reads it back', () => {
    const compiled = compileRule({
      family: 'ip',
      table: 't',
      chain: 'c',
      rule: 'accept',
      sets,
      comment: 'masquerade hairpin traffic',
      allocateSet: () => ({ name: '__set%d', setId: 1 }),
    });
    expect(compiled.userdata?.toString('latin1')).toBe('\x00\x1bmasquerade hairpin traffic\x00');
    expect(ruleCommentFromUserdata(compiled.userdata as Buffer)).toBe('masquerade hairpin traffic');
  });

  it('references a named set created in the same batch by its id', () => {
    const { expressions } = compileRuleExpressions({
      family: 'ip',
      rule: 'update @affinity { ip saddr }',
      sets,
      allocateSet: () => ({ name: '__set%d', setId: 1 }),
    });
    expect(expressions[1]).toMatchObject({ kind: 'dynset', set: 'affinity', setId: 7 });
  });
});
