import fc from 'fast-check';
import type { Ruleset, Table } from '../src/index';
import type { Chain, Match, Rule, Target } from '../src/iptables/index';

// Models the validator accepts: user chains jump only to chains declared later (no loops),
// built-in chains hold no jumps (so no hook restrictions apply), NAT targets only in nat,
// REJECT only in filter.

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const cidr = fc.tuple(ipv4, fc.integer({ min: 8, max: 32 })).map(([ip, p]) => `${ip}/${p}`);
const port = fc.integer({ min: 1, max: 65535 });
const commentChars = fc.constantFrom(...'abcXYZ019 /:._-"\\'.split(''));
const comment = fc
  .string({ unit: commentChars, minLength: 1, maxLength: 40 })
  .filter((s) => s.trim() === s && s.length > 0);
const chainName = fc
  .string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.split('')),
    minLength: 4,
    maxLength: 16,
  })
  .map((s) => `KUBE-${s}`);

const simpleMatch: fc.Arbitrary<Match> = fc.oneof(
  fc.record({ kind: fc.constant('source' as const), address: fc.oneof(ipv4, cidr), negate: fc.boolean() }),
  fc.record({
    kind: fc.constant('destination' as const),
    address: fc.oneof(ipv4, cidr),
    negate: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('comment' as const), comment }),
  fc.record({
    kind: fc.constant('statistic' as const),
    mode: fc.constant('random' as const),
    probability: fc.integer({ min: 1, max: 20 }).map((n) => 1 / n),
  }),
  fc.record({
    kind: fc.constant('addrtype' as const),
    destinationType: fc.constantFrom('LOCAL' as const, 'UNICAST' as const),
    negateDestination: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('conntrack' as const),
    states: fc.subarray(['INVALID', 'NEW', 'ESTABLISHED', 'RELATED'] as const, { minLength: 1 }),
  }),
  fc.record({
    kind: fc.constant('mark' as const),
    value: fc.integer({ min: 0, max: 0xffff }),
    mask: fc.constant(0xffff),
    negate: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('recent' as const),
    name: chainName,
    action: fc.constant('rcheck' as const),
    seconds: fc.integer({ min: 1, max: 10800 }),
    reap: fc.constant(true),
    side: fc.constant('source' as const),
  }),
);

/** A protocol, optionally followed by its port match. */
const protocolMatches: fc.Arbitrary<Match[]> = fc
  .tuple(fc.constantFrom('tcp' as const, 'udp' as const), fc.option(port, { nil: undefined }))
  .map(([protocol, dport]) => [
    { kind: 'protocol', protocol },
    ...(dport === undefined ? [] : [{ kind: 'port' as const, protocol, destinationPort: dport }]),
  ]);

function targetFor(
  table: Table['name'],
  laterChains: readonly string[],
  hasProtocol: boolean,
): fc.Arbitrary<Target | undefined> {
  const options: fc.Arbitrary<Target | undefined>[] = [
    fc.constant(undefined),
    fc
      .constantFrom(
        ...(table === 'nat' ? (['ACCEPT', 'RETURN'] as const) : (['ACCEPT', 'DROP', 'RETURN'] as const)),
      )
      .map((verdict) => ({ kind: 'verdict' as const, verdict })),
    fc.integer({ min: 1, max: 0xffff }).map((value) => ({ kind: 'mark' as const, op: 'or' as const, value })),
  ];
  if (laterChains.length > 0) {
    options.push(fc.constantFrom(...laterChains).map((chain) => ({ kind: 'jump' as const, chain })));
  }
  if (table === 'nat') {
    options.push(
      fc
        .tuple(ipv4, port)
        .map(([ip, p]) => ({ kind: 'dnat' as const, toDestination: hasProtocol ? `${ip}:${p}` : ip })),
      fc.boolean().map((randomFully) => ({ kind: 'masquerade' as const, randomFully })),
    );
  }
  if (table === 'filter') options.push(fc.constant({ kind: 'reject' as const }));
  return fc.oneof(...options);
}

// iptables allows each of -s/-d/-p/-i/-o once per rule.
function onePerBasicKind(matches: Match[]): Match[] {
  const seen = new Set<string>();
  return matches.filter((m) => {
    if (m.kind !== 'source' && m.kind !== 'destination') return true;
    if (seen.has(m.kind)) return false;
    seen.add(m.kind);
    return true;
  });
}

function ruleFor(table: Table['name'], laterChains: readonly string[]): fc.Arbitrary<Rule> {
  return fc
    .tuple(fc.option(protocolMatches, { nil: undefined }), fc.array(simpleMatch, { maxLength: 4 }))
    .chain(([protocol, rest]) =>
      targetFor(table, laterChains, protocol !== undefined).map((target) => ({
        matches: [...(protocol ?? []), ...onePerBasicKind(rest)],
        ...(target ? { target } : {}),
      })),
    );
}

function tableArb(name: Table['name']): fc.Arbitrary<Table> {
  return fc
    .uniqueArray(chainName, { minLength: 1, maxLength: 5 })
    .chain((names) =>
      fc
        .tuple(
          ...names.map((chain, i) =>
            fc
              .array(ruleFor(name, names.slice(i + 1)), { maxLength: 4 })
              .map((rules): Chain => ({ name: chain, rules })),
          ),
        )
        .map((chains) => ({ name, chains })),
    );
}

export const rulesetArb: fc.Arbitrary<Ruleset> = fc
  .subarray(['nat', 'filter'] as const, { minLength: 1 })
  .chain((names) => fc.tuple(...names.map(tableArb)))
  .map((tables) => ({ family: 'ipv4' as const, tables }));
