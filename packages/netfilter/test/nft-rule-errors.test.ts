import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../src/errors';
import type { NftFamily } from '../src/nftables/index';
import { AttributeWriter } from '../src/nftables/netlink/attributes';
import {
  compileRule,
  decodeExpressions,
  type NetlinkSetInfo,
  NftExpressionDecodeError,
  NftRuleSetError,
  NftRuleSyntaxError,
} from '../src/nftables/netlink/rule/index';

// Rules the compiler cannot (or, like nft, must not) compile fail with a typed error that names
// the rule and the token; malformed expression bytes with one naming the expression.

const sets = new Map<string, NetlinkSetInfo>([
  ['addrs', { name: 'addrs', keyType: 'ipv4_addr', keyLength: 4, flags: 0 }],
]);

function compile(rule: string, family: NftFamily = 'ip') {
  return compileRule({
    family,
    table: 't',
    chain: 'c',
    rule,
    sets,
    allocateSet: () => ({ name: '__set%d', setId: 1 }),
  });
}

function syntaxError(rule: string, family: NftFamily = 'ip'): NftRuleSyntaxError {
  try {
    compile(rule, family);
  } catch (e) {
    expect(e).toBeInstanceOf(NftRuleSyntaxError);
    expect((e as NftRuleSyntaxError).rule).toBe(rule);
    return e as NftRuleSyntaxError;
  }
  throw new Error(`${rule} compiled`);
}

describe('rule compiler errors', () => {
  it('names an unknown keyword and its offset', () => {
    const e = syntaxError('ip daddr 10.0.0.1 frobnicate');
    expect(e.token).toBe('frobnicate');
    expect(e.offset).toBe(18);
    expect(e.code).toBe('NFT_RULE_SYNTAX');
    expect(e.message).toContain('frobnicate');
  });

  it('names a header field it does not know', () => {
    expect(syntaxError('ip frobnicate 1 accept').reason).toMatch(/ip frobnicate is not a ip header field/);
  });

  it('names a value of the wrong type', () => {
    const e = syntaxError('ip daddr 10.0.0.300 accept');
    expect(e.token).toBe('10.0.0.300');
    expect(e.reason).toMatch(/not an IPv4 address/);
    expect(syntaxError('tcp dport 70000 accept').reason).toMatch(/larger than 65535/);
    expect(syntaxError('ct state bogus accept').reason).toMatch(/not a ct_state/);
  });

  it('refuses what nft refuses', () => {
    expect(syntaxError('udp dport 53 tcp dport 80 accept').reason).toMatch(
      /conflicting protocols specified: udp vs. tcp/,
    );
    expect(syntaxError('meta l4proto { tcp, udp } tcp dport 80').reason).toMatch(/conflicting protocols/);
    expect(syntaxError('dnat to 10.0.0.1:80').reason).toMatch(
      /transport protocol mapping is only valid after transport protocol match/,
    );
    expect(syntaxError('dnat to 10.0.0.1', 'inet').reason).toMatch(/ip or ip6 must be specified/);
    expect(syntaxError('ip6 daddr ::1 accept').reason).toMatch(/cannot match in an ip table/);
  });

  it('needs a resolver for interface names, and names a missing interface', () => {
    expect(syntaxError('iif cbr0 accept').reason).toMatch(/needs CompileRuleInput.resolveInterface/);
    expect(() =>
      compileRule({
        family: 'ip',
        table: 't',
        chain: 'c',
        rule: 'iif cbr0 accept',
        sets,
        resolveInterface: () => undefined,
        allocateSet: () => ({ name: '__set0', setId: 1 }),
      }),
    ).toThrow(/Interface does not exist/);
    expect(() => compile('iif 3 accept')).not.toThrow();
  });

  it('reports unterminated strings, missing values and empty rules', () => {
    expect(syntaxError('log prefix "open').reason).toMatch(/unterminated string/);
    expect(syntaxError('ip daddr').token).toBe('<end>');
    expect(syntaxError('   ').reason).toMatch(/at least one statement/);
    expect(syntaxError('ip saddr { } drop').reason).toMatch(/at least one element/);
  });

  it('names a set the table does not have, and a set used as a verdict map', () => {
    expect(() => compile('ip daddr @nope accept')).toThrow(NftRuleSetError);
    const error = (() => {
      try {
        compile('ip daddr vmap @addrs');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(NftRuleSetError);
    expect((error as NftRuleSetError).set).toBe('addrs');
    expect((error as NftRuleSetError).message).toContain('not a verdict map');
  });

  it('rejects malformed expression bytes with the expression named', () => {
    const unknown = new AttributeWriter()
      .nested(1, (e) => e.string(1, 'frob').nested(2, () => {}))
      .toBuffer();
    expect(() => decodeExpressions(unknown)).toThrow(NftExpressionDecodeError);
    const missing = new AttributeWriter()
      .nested(1, (e) => e.string(1, 'cmp').nested(2, (d) => d.u32(1, 1)))
      .toBuffer();
    expect(() => decodeExpressions(missing)).toThrow(/"cmp": has no attribute/);
    expect(() => decodeExpressions(Buffer.from([0xff, 0, 1, 0]))).toThrow(InvalidFieldError);
  });
});
