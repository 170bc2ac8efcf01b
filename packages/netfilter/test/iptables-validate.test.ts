import { describe, expect, it } from 'vitest';
import { type Ruleset, type Table, UnknownTargetError } from '../src/index';
import { InvalidFieldError, type Rule, validateRuleset } from '../src/iptables/index';

const nat = (chains: Table['chains'], deleteChains?: string[]): Ruleset => ({
  family: 'ipv4',
  tables: [{ name: 'nat', chains, ...(deleteChains ? { deleteChains } : {}) }],
});
const one = (rule: Rule, table: Table['name'] = 'nat'): Ruleset => ({
  family: 'ipv4',
  tables: [{ name: table, chains: [{ name: 'KUBE-X', rules: [rule] }] }],
});

function errorOf(fn: () => void): Error & { field?: string; code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('validateRuleset', () => {
  it('accepts a well-formed kube-proxy table', () => {
    expect(() =>
      validateRuleset(
        nat([
          {
            name: 'PREROUTING',
            policy: 'ACCEPT',
            rules: [{ matches: [], target: { kind: 'jump', chain: 'KUBE-SERVICES' } }],
          },
          {
            name: 'KUBE-SERVICES',
            rules: [
              {
                matches: [
                  { kind: 'protocol', protocol: 'tcp' },
                  { kind: 'destination', address: '172.30.0.1/32' },
                  { kind: 'port', protocol: 'tcp', destinationPort: 80 },
                ],
                target: { kind: 'jump', chain: 'KUBE-SEP-A' },
              },
            ],
          },
          {
            name: 'KUBE-SEP-A',
            rules: [
              {
                matches: [{ kind: 'protocol', protocol: 'tcp' }],
                target: { kind: 'dnat', toDestination: '10.1.0.1:8080' },
              },
            ],
          },
        ]),
      ),
    ).not.toThrow();
  });

  it('rejects an invalid address naming rule and field', () => {
    const error = errorOf(() =>
      validateRuleset(one({ matches: [{ kind: 'destination', address: '300.1.1.1' }] })),
    );
    expect(error).toBeInstanceOf(InvalidFieldError);
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.field).toBe('nat/KUBE-X rule 1 destination');
    expect(() => validateRuleset(one({ matches: [{ kind: 'source', address: 'fd00::1' }] }))).toThrow(
      /not an IPv4 address/,
    );
    expect(() => validateRuleset(one({ matches: [{ kind: 'source', address: '10.1' }] }))).toThrow(
      InvalidFieldError,
    );
  });

  it('rejects ports out of range and port matches without a protocol', () => {
    const port = (destinationPort: number): Rule => ({
      matches: [
        { kind: 'protocol', protocol: 'udp' },
        { kind: 'port', protocol: 'udp', destinationPort },
      ],
    });
    expect(() => validateRuleset(one(port(65535)))).not.toThrow();
    expect(errorOf(() => validateRuleset(one(port(65536)))).field).toBe('nat/KUBE-X rule 1 destinationPort');
    expect(() =>
      validateRuleset(one({ matches: [{ kind: 'port', protocol: 'tcp', destinationPort: 80 }] })),
    ).toThrow(/needs a preceding "-p tcp"/);
    expect(() =>
      validateRuleset(
        one({
          matches: [{ kind: 'protocol', protocol: 'tcp' }],
          target: { kind: 'dnat', toDestination: '10.0.0.1:0' },
        }),
      ),
    ).toThrow(/toDestination/);
    expect(() =>
      validateRuleset(one({ matches: [], target: { kind: 'dnat', toDestination: '10.0.0.1:80' } })),
    ).toThrow(/does not match -p tcp/);
  });

  it('rejects chain names over 28 characters', () => {
    const name = `KUBE-SVC-${'A'.repeat(20)}`;
    expect(name.length).toBe(29);
    const error = errorOf(() => validateRuleset(nat([{ name, rules: [] }])));
    expect(error).toBeInstanceOf(InvalidFieldError);
    expect(error.field).toBe(`nat/${name} name`);
    expect(() => validateRuleset(nat([{ name: name.slice(1), rules: [] }]))).not.toThrow();
    expect(() => validateRuleset(nat([{ name: 'DNAT', rules: [] }]))).toThrow(/clashes with a target/);
  });

  it('rejects jumps to undeclared chains and unknown targets', () => {
    const error = errorOf(() =>
      validateRuleset(one({ matches: [], target: { kind: 'jump', chain: 'KUBE-NOPE' } })),
    );
    expect(error).toBeInstanceOf(UnknownTargetError);
    expect(error.field).toBe('nat/KUBE-X rule 1 target');
    expect(error.message).toContain('KUBE-NOPE');
    expect(() =>
      validateRuleset(one({ matches: [], target: { kind: 'jump', chain: 'KUBE-NOPE' } }), {
        existingChains: { nat: ['KUBE-NOPE'] },
      }),
    ).not.toThrow();
    expect(() =>
      validateRuleset(one({ matches: [], target: { kind: 'extension', name: 'FROBNICATE', args: [] } })),
    ).toThrow(UnknownTargetError);
    expect(() =>
      validateRuleset(one({ matches: [], target: { kind: 'jump', chain: 'PREROUTING' } })),
    ).toThrow(/built-in chain/);
    expect(() =>
      validateRuleset(
        nat(
          [{ name: 'KUBE-A', rules: [{ matches: [], target: { kind: 'jump', chain: 'KUBE-OLD' } }] }],
          ['KUBE-OLD'],
        ),
      ),
    ).toThrow(UnknownTargetError);
  });

  it('rejects loops and targets in the wrong table or hook', () => {
    expect(() =>
      validateRuleset(
        nat([
          { name: 'KUBE-A', rules: [{ matches: [], target: { kind: 'jump', chain: 'KUBE-B' } }] },
          { name: 'KUBE-B', rules: [{ matches: [], target: { kind: 'jump', chain: 'KUBE-A' } }] },
        ]),
      ),
    ).toThrow(/jump loop/);
    expect(() => validateRuleset(one({ matches: [], target: { kind: 'masquerade' } }, 'filter'))).toThrow(
      /only valid in the nat table/,
    );
    expect(() =>
      validateRuleset(one({ matches: [], target: { kind: 'verdict', verdict: 'DROP' } }, 'nat')),
    ).toThrow(/nat table/);
    expect(() =>
      validateRuleset(
        nat([
          { name: 'OUTPUT', rules: [{ matches: [], target: { kind: 'jump', chain: 'KUBE-POST' } }] },
          { name: 'KUBE-POST', rules: [{ matches: [], target: { kind: 'masquerade' } }] },
        ]),
      ),
    ).toThrow(/reached from OUTPUT/);
  });

  it('checks the other match fields', () => {
    const bad: Rule[] = [
      { matches: [{ kind: 'comment', comment: 'x'.repeat(256) }] },
      { matches: [{ kind: 'statistic', mode: 'random', probability: 1.5 }] },
      { matches: [{ kind: 'mark', value: -1 }] },
      { matches: [{ kind: 'conntrack', states: [] }] },
      { matches: [{ kind: 'in-interface', name: 'an-interface-name-too-long' }] },
      { matches: [{ kind: 'recent', name: 'X', action: 'set', seconds: 10 }] },
      { matches: [], target: { kind: 'reject', with: 'icmp6-no-route' } },
      {
        matches: [
          { kind: 'destination', address: '10.0.0.0/8' },
          { kind: 'destination', address: '10.0.0.1' },
        ],
      },
    ];
    for (const rule of bad)
      expect(() => validateRuleset(one(rule, 'filter')), JSON.stringify(rule)).toThrow(InvalidFieldError);
  });
});
