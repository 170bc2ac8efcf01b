import fc from 'fast-check';
import type { NftFamily, NftOperation } from '../src/nftables/index';
import { NftTransaction } from '../src/nftables/index';

// Rules from the compiler's grammar that nft accepts: one transport protocol per rule (nft
// refuses conflicting ones), ports in nat only after that protocol is matched, addresses of the
// table's family. The table holds the named sets and chains the rules may reference.

export interface FuzzTable {
  family: 'ip' | 'ip6' | 'inet';
  operations: NftOperation[];
}

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const hextet = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
const ipv6 = fc.oneof(
  fc.array(hextet, { minLength: 8, maxLength: 8 }).map((h) => h.join(':')),
  fc.tuple(hextet, hextet, hextet).map(([a, b, c]) => `fd00:${a}::${b}:${c}`),
);
const port = fc.integer({ min: 1, max: 65535 });
const portRange = fc.tuple(port, port).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`);
const u32 = fc.integer({ min: 1, max: 0xffffffff }).map((n) => `0x${n.toString(16).padStart(8, '0')}`);
const ifname = fc.stringMatching(/^[a-z][a-z0-9]{1,9}$/);
const relop = fc.constantFrom('', '== ', '!= ');
const orderOp = fc.constantFrom('< ', '> ', '<= ', '>= ');

function address(v6: boolean): fc.Arbitrary<string> {
  const bits = v6 ? 128 : 32;
  const addr = v6 ? ipv6 : ipv4;
  return fc.oneof(
    addr,
    fc.tuple(addr, fc.integer({ min: 1, max: bits })).map(([a, p]) => `${a}/${p}`),
  );
}

function addressMatch(proto: 'ip' | 'ip6'): fc.Arbitrary<string> {
  const v6 = proto === 'ip6';
  const field = fc.constantFrom('saddr', 'daddr');
  return fc.oneof(
    fc.tuple(field, relop, address(v6)).map(([f, op, a]) => `${proto} ${f} ${op}${a}`),
    fc
      .tuple(field, fc.constantFrom('', '!= '), fc.uniqueArray(address(v6), { minLength: 1, maxLength: 4 }))
      .map(([f, op, list]) => `${proto} ${f} ${op}{ ${list.join(', ')} }`),
    fc
      .tuple(field, fc.constantFrom('', '!= '))
      .map(([f, op]) => `${proto} ${f} ${op}@${v6 ? 'addrs6' : 'addrs4'}`),
  );
}

function transportMatch(l4: 'tcp' | 'udp' | 'sctp'): fc.Arbitrary<string> {
  const field = fc.constantFrom('sport', 'dport');
  const proto = fc.constantFrom(l4, 'th');
  return fc.oneof(
    fc
      .tuple(proto, field, relop, fc.oneof(port.map(String), portRange))
      .map(([p, f, op, v]) => `${p} ${f} ${op}${v}`),
    fc.tuple(proto, field, orderOp, port).map(([p, f, op, v]) => `${p} ${f} ${op}${v}`),
    fc
      .tuple(proto, field, fc.uniqueArray(port, { minLength: 2, maxLength: 5 }))
      .map(([p, f, list]) => `${p} ${f} { ${list.join(', ')} }`),
  );
}

const metaMatch = fc.oneof(
  fc.tuple(fc.constantFrom('mark', 'meta mark', 'ct mark'), relop, u32).map(([k, op, v]) => `${k} ${op}${v}`),
  fc.tuple(fc.constantFrom('mark', 'meta mark'), orderOp, u32).map(([k, op, v]) => `${k} ${op}${v}`),
  fc
    .tuple(
      fc.constantFrom('mark', 'meta mark'),
      fc.constantFrom('and', '&'),
      u32,
      fc.constantFrom('==', '!='),
      u32,
    )
    .map(([k, op, m, cmp, v]) => `${k} ${op} ${m} ${cmp} ${v}`),
  fc
    .tuple(fc.constantFrom('state', 'status'), fc.constantFrom('', '== ', '!= '))
    .chain(([key, op]) =>
      fc
        .subarray(
          key === 'state'
            ? ['invalid', 'established', 'related', 'new', 'untracked']
            : ['expected', 'seen-reply', 'assured', 'confirmed', 'snat', 'dnat', 'dying'],
          { minLength: 1, maxLength: op === '' ? 3 : 1 },
        )
        .map((flags) => `ct ${key} ${op}${flags.join(',')}`),
    ),
  fc
    .tuple(fc.constantFrom('iifname', 'oifname', 'meta iifname'), relop, ifname, fc.boolean())
    .map(([k, op, n, wild]) => `${k} ${op}"${n}${wild ? '*' : ''}"`),
  fc
    .tuple(fc.constantFrom('saddr', 'daddr'), fc.constantFrom('local', 'unicast', 'broadcast', 'multicast'))
    .map(([f, t]) => `fib ${f} type ${t}`),
);

const action = fc.oneof(
  fc.constant('counter'),
  fc.tuple(fc.nat(1000), fc.nat(100000)).map(([p, b]) => `counter packets ${p} bytes ${b}`),
  u32.map((v) => `meta mark set ${v}`),
  fc
    .tuple(fc.constantFrom('or', 'xor', 'and', '|', '^', '&'), u32)
    .map(([op, v]) => `meta mark set meta mark ${op} ${v}`),
  fc.constant('ct mark set meta mark'),
  fc.stringMatching(/^[a-z]{1,8}$/).map((p) => `log prefix "${p} "`),
  fc
    .tuple(fc.integer({ min: 1, max: 1000 }), fc.constantFrom('second', 'minute', 'hour'))
    .map(([r, u]) => `limit rate ${r}/${u}`),
);

function terminal(
  v6: boolean,
  l4: string | undefined,
  l4Matched: boolean,
  inet: boolean,
): fc.Arbitrary<string> {
  // inet tables need the nat family spelled out.
  const nat = (kind: string) => (inet ? `${kind} ${v6 ? 'ip6' : 'ip'} to` : `${kind} to`);
  const options: fc.Arbitrary<string>[] = [
    fc.constantFrom('accept', 'drop', 'return', 'continue', 'jump target', 'goto target'),
    fc.constantFrom('masquerade', 'masquerade fully-random', 'masquerade random,persistent'),
    fc.constantFrom(
      'reject',
      v6 ? 'reject with icmpv6 type admin-prohibited' : 'reject with icmp type host-unreachable',
    ),
    (v6 ? ipv6 : ipv4).map((a) => `${nat('dnat')} ${a}`),
    (v6 ? ipv6 : ipv4).map((a) => `${nat('snat')} ${a}`),
  ];
  if (l4 && l4Matched) {
    options.push(
      fc
        .tuple(v6 ? ipv6 : ipv4, port)
        .map(([a, p]) => (v6 ? `${nat('dnat')} [${a}]:${p}` : `${nat('dnat')} ${a}:${p}`)),
      portRange.map((r) => `masquerade to :${r}`),
    );
    if (l4 === 'tcp') options.push(fc.constant('reject with tcp reset'));
  }
  return fc.oneof(...options);
}

/** One rule text matching `family` addresses, for a table of that family or (`inet`) an inet one. */
export function ruleText(family: 'ip' | 'ip6', inet = false): fc.Arbitrary<string> {
  const v6 = family === 'ip6';
  return fc
    .record({
      l4: fc.option(fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const), { nil: undefined }),
      explicitL4: fc.boolean(),
      matches: fc.array(fc.oneof(addressMatch(family), metaMatch), { maxLength: 3 }),
      protocolSet: fc.option(
        fc.constantFrom('meta l4proto { tcp, udp }', 'meta l4proto { sctp, udp, tcp }'),
        {
          nil: undefined,
        },
      ),
      concat: fc.option(
        fc.constantFrom(
          `${family} daddr . meta l4proto . th dport vmap @dispatch`,
          `${family} saddr . ${family} daddr @pairs`,
          'meta l4proto . th dport vmap { tcp . 80 : accept, udp . 53 : drop }',
          'numgen random mod 3 vmap { 0 : jump target, 1 : goto target, 2 : drop }',
        ),
        { nil: undefined },
      ),
      actions: fc.array(action, { maxLength: 2 }),
    })
    .chain(({ l4, explicitL4, matches, protocolSet, concat, actions }) =>
      (l4 ? fc.array(transportMatch(l4), { minLength: 1, maxLength: 2 }) : fc.constant([] as string[])).chain(
        (transport) =>
          fc
            .option(terminal(v6, l4, explicitL4 || transport.some((t) => !t.startsWith('th ')), inet), {
              nil: undefined,
            })
            .map((end) => {
              const parts = [
                ...(l4 && explicitL4 ? [`meta l4proto ${l4}`] : []),
                // nft takes a protocol set's context from its largest member: only without transport matches.
                ...(protocolSet && !l4 ? [protocolSet] : []),
                ...matches,
                ...transport,
                ...(concat ? [concat] : []),
                ...actions,
                ...(end && !concat ? [end] : []),
              ];
              return parts.length === 0 ? 'counter' : parts.join(' ');
            }),
      ),
    );
}

/** The table the rules live in: the sets and chains they reference, then the rules in one chain. */
export function fuzzTable(family: 'ip' | 'ip6', rules: readonly string[]): NftOperation[] {
  const addr = family === 'ip6' ? 'ipv6_addr' : 'ipv4_addr';
  const tx = new NftTransaction()
    .add({ kind: 'table' })
    .add({ kind: 'set', name: 'addrs4', type: 'ipv4_addr' })
    .add({ kind: 'set', name: 'addrs6', type: 'ipv6_addr' })
    .add({ kind: 'set', name: 'pairs', type: `${addr} . ${addr}` })
    .add({ kind: 'map', name: 'dispatch', type: `${addr} . inet_proto . inet_service`, valueType: 'verdict' })
    .add({ kind: 'chain', name: 'target' })
    .add({ kind: 'chain', name: 'rules' });
  for (const rule of rules) tx.add({ kind: 'rule', chain: 'rules', rule });
  return tx.operations;
}

export type { NftFamily };
