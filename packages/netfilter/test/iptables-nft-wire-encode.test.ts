import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../src/errors';
import type { Ruleset } from '../src/iptables/model';
import { encodeIptablesNftBatch, IptablesNftUnsupportedError } from '../src/iptables/nft-wire/index';
import { parseSave } from '../src/iptables/parse-save';
import { IPV4_FIRST, IPV6_FIRST } from './fixtures/iptables-nft-wire-shapes';

// The encoder without a kernel (test/real/iptables-nft-wire.test.ts holds it against
// iptables-nft-restore): repeated parts come from its cache byte for byte, and what it cannot
// write is refused with the rule's place.

function ruleMessages(ruleset: Ruleset): string[] {
  return encodeIptablesNftBatch(ruleset)
    .batch.items()
    .filter((m) => m.operation.startsWith('add rule'))
    .map((m) => Buffer.from(m.attributes).toString('hex'));
}

/** Each rule of `ruleset` encoded alone, by an encoder (and cache) of its own. */
function ruleMessagesOneByOne(ruleset: Ruleset): string[] {
  return ruleset.tables.flatMap((table) =>
    table.chains.flatMap((chain) =>
      chain.rules.flatMap((rule) =>
        ruleMessages({
          family: ruleset.family,
          tables: [{ name: table.name, chains: [{ ...chain, rules: [rule] }] }],
        }),
      ),
    ),
  );
}

describe('iptables-nft batch encoding', () => {
  it('writes a repeated comment, protocol or verdict from its cache exactly as a fresh encoding', () => {
    for (const [payload, family] of [
      [IPV4_FIRST, 'ipv4'],
      [IPV6_FIRST, 'ipv6'],
    ] as const) {
      const ruleset = parseSave(payload, family);
      const together = ruleMessages(ruleset);
      expect(together.length).toBeGreaterThan(15);
      expect(together).toEqual(ruleMessagesOneByOne(ruleset));
    }
  });

  it('refuses a shape it does not reproduce, naming the rule', () => {
    const refused = (line: string) => {
      try {
        encodeIptablesNftBatch(
          parseSave(`*nat\n:KUBE-X - [0:0]\n-A KUBE-X -j RETURN\n-A KUBE-X ${line}\nCOMMIT\n`),
        );
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const cases: [string, string][] = [
      ['-m recent --name X --set -j RETURN', 'match recent'],
      ['-p tcp -m multiport --dports 80,443 -j RETURN', 'match multiport'],
      ['-p tcp -m tcp --sport 1 --dport 2 -j RETURN', 'match port'],
      ['-p tcp -m tcp --dport 0:80 -j RETURN', 'port range 0:80'],
      ['-j SNAT --to-source 10.0.0.1', 'target snat'],
      ['-j LOG --log-prefix x', 'target LOG'],
      ['-j MASQUERADE --to-ports 1000', 'target masquerade'],
      ['-i + -j RETURN', 'interface "+"'],
    ];
    for (const [line, shape] of cases) {
      const error = refused(line);
      expect(error, line).toBeInstanceOf(IptablesNftUnsupportedError);
      expect((error as IptablesNftUnsupportedError).field).toBe('nat/KUBE-X rule 2');
      expect((error as Error).message).toContain(shape);
    }
  });

  it('refuses a comment iptables would refuse instead of cutting it, and a probability over 1', () => {
    const refused = (line: string) => {
      try {
        encodeIptablesNftBatch(parseSave(`*nat\n:KUBE-X - [0:0]\n-A KUBE-X ${line}\nCOMMIT\n`));
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const long = refused(`-m comment --comment ${'x'.repeat(256)} -j RETURN`);
    expect(long).toBeInstanceOf(InvalidFieldError);
    expect((long as InvalidFieldError).field).toBe('--comment');
    expect(refused(`-m comment --comment ${'x'.repeat(255)} -j RETURN`)).toBeUndefined();
    const probability = refused('-m statistic --mode random --probability 1.5 -j RETURN');
    expect(probability).toBeInstanceOf(InvalidFieldError);
    expect((probability as InvalidFieldError).value).toBe(1.5);
  });

  it('names the field and the value of an address it cannot read', () => {
    const error = (() => {
      try {
        encodeIptablesNftBatch(
          parseSave('*nat\n:KUBE-X - [0:0]\n-A KUBE-X -s 10.0.0.256 -j RETURN\nCOMMIT\n'),
        );
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidFieldError);
    expect((error as InvalidFieldError).field).toBe('nat/KUBE-X rule 1');
    expect((error as InvalidFieldError).value).toBe('10.0.0.256');
  });
});
