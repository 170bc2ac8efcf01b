// nft rule text → statements (rule-ast.ts), for the subset of nft's grammar our rulesets use:
// payload/meta/ct/fib/numgen selectors and their concatenations, relational matches against
// values, prefixes, ranges, named and anonymous sets, vmaps, verdicts, counter, meta/ct set,
// dnat/snat (address, or a map lookup), masquerade, reject, set updates, log, limit, notrack.
// Anything else is an NftRuleSyntaxError naming the rule and the token.

import { parseVerdict } from '../data-types';
import { NftRuleSyntaxError } from './errors';
import type { RelOp, RhsExpr, SelectorExpr, SetElementAst, Statement, ValueExpr } from './rule-ast';
import { type Token, tokenize } from './tokenize';

const PAYLOAD_PROTOS = new Set(['ip', 'ip6', 'tcp', 'udp', 'sctp', 'th']);
/** Meta keys nft accepts without the `meta` keyword. */
const BARE_META = new Set([
  'mark',
  'iif',
  'oif',
  'iifname',
  'oifname',
  'iiftype',
  'oiftype',
  'skuid',
  'skgid',
  'nftrace',
  'rtclassid',
  'pkttype',
  'cpu',
  'iifgroup',
  'oifgroup',
  'cgroup',
  'priority',
]);
const REL_OPS: Readonly<Record<string, RelOp>> = {
  '==': 'eq',
  eq: 'eq',
  '!=': 'neq',
  ne: 'neq',
  '<': 'lt',
  lt: 'lt',
  '<=': 'lte',
  le: 'lte',
  '>': 'gt',
  gt: 'gt',
  '>=': 'gte',
  ge: 'gte',
};
const BINOPS: Readonly<Record<string, 'and' | 'or' | 'xor'>> = {
  and: 'and',
  '&': 'and',
  or: 'or',
  '|': 'or',
  xor: 'xor',
  '^': 'xor',
};
const VERDICTS = new Set(['accept', 'drop', 'return', 'continue', 'jump', 'goto']);
const NAT_FLAGS = new Set(['random', 'fully-random', 'persistent']);

class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(private readonly rule: string) {
    this.tokens = tokenize(rule);
  }

  fail(reason: string, token: Token | undefined = this.peek()): never {
    throw new NftRuleSyntaxError(
      this.rule,
      token?.text ?? '<end>',
      token?.offset ?? this.rule.length,
      reason,
    );
  }

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.pos + ahead];
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  next(what: string): Token {
    const t = this.tokens[this.pos];
    if (!t) this.fail(`expected ${what}`);
    this.pos++;
    return t;
  }

  word(what: string): string {
    const t = this.next(what);
    if (t.kind !== 'word' && t.kind !== 'string') this.fail(`expected ${what}`, t);
    return t.text;
  }

  isWord(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t !== undefined && t.kind === 'word' && t.text === text;
  }

  isPunct(text: string): boolean {
    const t = this.peek();
    return t !== undefined && t.kind === 'punct' && t.text === text;
  }

  expectPunct(text: string): void {
    const t = this.next(`'${text}'`);
    if (t.kind !== 'punct' || t.text !== text) this.fail(`expected '${text}'`, t);
  }

  number(what: string): number {
    const t = this.next(what);
    if (!/^[0-9]+$/.test(t.text)) this.fail(`expected ${what} (a number)`, t);
    return Number(t.text);
  }

  statements(): Statement[] {
    const out: Statement[] = [];
    while (!this.atEnd()) out.push(this.statement());
    return out;
  }

  statement(): Statement {
    const t = this.peek() as Token;
    if (t.kind !== 'word') this.fail('expected a statement');
    const w = t.text;
    if (VERDICTS.has(w)) {
      this.pos++;
      if (w === 'jump' || w === 'goto')
        return { t: 'verdict', verdict: parseVerdict(`${w} ${this.word('a chain')}`) };
      return { t: 'verdict', verdict: parseVerdict(w) };
    }
    switch (w) {
      case 'counter':
        return this.counter();
      case 'dnat':
      case 'snat':
        return this.nat(w);
      case 'masquerade':
        return this.masquerade();
      case 'reject':
        return this.reject();
      case 'add':
      case 'update':
      case 'delete':
        return this.dynset(w);
      case 'log':
        return this.log();
      case 'limit':
        return this.limit();
      case 'notrack':
        this.pos++;
        return { t: 'notrack' };
    }
    const offset = t.offset;
    const left = this.selector();
    if (this.isWord('set')) {
      this.pos++;
      const valueToken = this.peek();
      const value = valueToken && this.startsSelector(valueToken) ? this.selector() : this.value();
      return { t: 'set', target: left, value, offset };
    }
    if (this.isWord('vmap')) {
      this.pos++;
      return { t: 'vmap', key: left, map: this.rhs(), offset };
    }
    let op: RelOp = 'implicit';
    const opToken = this.peek();
    if (opToken && (opToken.kind === 'op' || opToken.kind === 'word') && REL_OPS[opToken.text]) {
      op = REL_OPS[opToken.text] as RelOp;
      this.pos++;
    }
    return { t: 'match', left, op, right: this.rhs(), offset };
  }

  startsSelector(t: Token): boolean {
    return (
      t.kind === 'word' &&
      (PAYLOAD_PROTOS.has(t.text) ||
        BARE_META.has(t.text) ||
        ['meta', 'ct', 'fib', 'numgen'].includes(t.text))
    );
  }

  /** A selector, a concatenation of selectors, each optionally masked (`mark and 0x4000`). */
  selector(): SelectorExpr {
    const parts = [this.maskedPrimary()];
    while (this.isPunct('.')) {
      this.pos++;
      parts.push(this.maskedPrimary());
    }
    return parts.length === 1 ? (parts[0] as SelectorExpr) : { t: 'concat', parts };
  }

  maskedPrimary(): SelectorExpr {
    let expr = this.primary();
    for (;;) {
      const t = this.peek();
      const op = t && (t.kind === 'op' || t.kind === 'word') ? BINOPS[t.text] : undefined;
      if (!op) return expr;
      this.pos++;
      expr = { t: 'binop', op, left: expr, right: this.word('a mask value') };
    }
  }

  primary(): SelectorExpr {
    const t = this.next('an expression');
    if (t.kind !== 'word') this.fail('expected an expression', t);
    if (PAYLOAD_PROTOS.has(t.text)) {
      const field = this.word(`a ${t.text} header field`);
      return { t: 'payload', proto: t.text as 'ip', field };
    }
    if (t.text === 'meta') return { t: 'meta', key: this.word('a meta key') };
    if (BARE_META.has(t.text)) return { t: 'meta', key: t.text };
    if (t.text === 'ct') return this.ct();
    if (t.text === 'fib') return this.fib();
    if (t.text === 'numgen') return this.numgen();
    return this.fail('unknown expression', t);
  }

  ct(): SelectorExpr {
    let dir: 'original' | 'reply' | undefined;
    if (this.isWord('original') || this.isWord('reply')) dir = this.word('a direction') as 'original';
    const key = this.word('a ct key');
    if (key === 'ip' || key === 'ip6') {
      const field = this.word('saddr or daddr');
      if (field !== 'saddr' && field !== 'daddr') this.fail('expected saddr or daddr', this.peek(-1));
      return { t: 'ct', key: field, proto: key, ...(dir ? { dir } : {}) };
    }
    return { t: 'ct', key, ...(dir ? { dir } : {}) };
  }

  fib(): SelectorExpr {
    const flags = [this.word('a fib key (saddr, daddr, mark, iif, oif)')];
    while (this.isPunct('.')) {
      this.pos++;
      flags.push(this.word('a fib key'));
    }
    const result = this.word('a fib result (type, oif, oifname)');
    return { t: 'fib', flags, result };
  }

  numgen(): SelectorExpr {
    const type = this.word('random or inc');
    if (type !== 'random' && type !== 'inc') this.fail('expected random or inc', this.peek(-1));
    if (!this.isWord('mod')) this.fail("expected 'mod'");
    this.pos++;
    const modulus = this.number('a modulus');
    if (this.isWord('offset')) {
      this.pos++;
      return { t: 'numgen', type, modulus, offset: this.number('an offset') };
    }
    return { t: 'numgen', type, modulus };
  }

  /** One value, or comma-joined flag names (`established,related`). */
  value(): ValueExpr {
    const t = this.next('a value');
    if (t.kind !== 'word' && t.kind !== 'string') this.fail('expected a value', t);
    let text = t.kind === 'string' ? `"${t.text}"` : t.text;
    while (this.isPunct(',')) {
      this.pos++;
      text += `,${this.word('a value after ,')}`;
    }
    return { t: 'value', text, offset: t.offset };
  }

  rhs(): RhsExpr {
    const t = this.peek();
    if (!t) this.fail('expected a value, @set or { … }');
    if (t.kind === 'word' && t.text.startsWith('@')) {
      this.pos++;
      if (t.text.length === 1) this.fail('expected a set name after @', t);
      return { t: 'setref', name: t.text.slice(1), offset: t.offset };
    }
    if (t.kind === 'punct' && t.text === '{') return this.anonymousSet();
    return this.value();
  }

  anonymousSet(): RhsExpr {
    const open = this.next('{');
    const elements: SetElementAst[] = [];
    for (;;) {
      if (this.isPunct('}')) break;
      elements.push(this.element());
      if (this.isPunct(',')) {
        this.pos++;
        continue;
      }
      if (!this.isPunct('}')) this.fail("expected ',' or '}'");
    }
    this.pos++;
    if (elements.length === 0) this.fail('an anonymous set needs at least one element', open);
    return { t: 'set', elements, offset: open.offset };
  }

  element(): SetElementAst {
    const offset = this.peek()?.offset ?? this.rule.length;
    const key = this.concatValues();
    if (!this.isPunct(':')) return { key, offset };
    this.pos++;
    const first = this.peek();
    if (first?.kind === 'word' && (first.text === 'jump' || first.text === 'goto')) {
      this.pos++;
      return { key, value: [`${first.text} ${this.word('a chain')}`], offset };
    }
    return { key, value: this.concatValues(), offset };
  }

  concatValues(): string[] {
    const parts = [this.word('a value')];
    while (this.isPunct('.')) {
      this.pos++;
      parts.push(this.word('a value'));
    }
    return parts;
  }

  counter(): Statement {
    this.pos++;
    let packets = 0n;
    let bytes = 0n;
    if (this.isWord('packets')) {
      this.pos++;
      packets = BigInt(this.number('a packet count'));
      if (!this.isWord('bytes')) this.fail("expected 'bytes'");
      this.pos++;
      bytes = BigInt(this.number('a byte count'));
    }
    return { t: 'counter', packets, bytes };
  }

  natFlags(): string[] {
    const flags: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t?.kind !== 'word' || !NAT_FLAGS.has(t.text)) return flags;
      this.pos++;
      flags.push(t.text);
      if (this.isPunct(',')) this.pos++;
    }
  }

  nat(type: 'dnat' | 'snat'): Statement {
    const offset = (this.next(type) as Token).offset;
    let family: 'ip' | 'ip6' | undefined;
    if (this.isWord('ip') || this.isWord('ip6')) family = this.word('a family') as 'ip';
    if (!this.isWord('to')) this.fail("expected 'to'");
    this.pos++;
    const t = this.peek();
    if (t && this.startsSelector(t)) {
      const mapKey = this.selector();
      if (!this.isWord('map')) this.fail("expected 'map'");
      this.pos++;
      const map = this.rhs();
      return { t: 'nat', type, mapKey, map, flags: this.natFlags(), offset, ...(family ? { family } : {}) };
    }
    const to = this.word('an address');
    return { t: 'nat', type, to, flags: this.natFlags(), offset, ...(family ? { family } : {}) };
  }

  masquerade(): Statement {
    const offset = (this.next('masquerade') as Token).offset;
    let to: string | undefined;
    if (this.isWord('to')) {
      this.pos++;
      to = this.word('a port');
    }
    return { t: 'masquerade', flags: this.natFlags(), offset, ...(to !== undefined ? { to } : {}) };
  }

  reject(): Statement {
    const offset = (this.next('reject') as Token).offset;
    if (!this.isWord('with')) return { t: 'reject', offset };
    this.pos++;
    const kind = this.word('icmp, icmpv6, icmpx or tcp');
    if (kind === 'tcp') {
      if (this.word('reset') !== 'reset') this.fail("expected 'reset'", this.peek(-1));
      return { t: 'reject', with: { kind: 'tcp', code: 'reset' }, offset };
    }
    if (kind !== 'icmp' && kind !== 'icmpv6' && kind !== 'icmpx')
      this.fail('unknown reject type', this.peek(-1));
    if (this.isWord('type')) this.pos++;
    return { t: 'reject', with: { kind, code: this.word('a reject code') }, offset };
  }

  dynset(op: 'add' | 'update' | 'delete'): Statement {
    const offset = (this.next(op) as Token).offset;
    const ref = this.next('@set');
    if (!ref.text.startsWith('@') || ref.text.length === 1) this.fail('expected @set', ref);
    this.expectPunct('{');
    const key = this.selector();
    let timeout: string | undefined;
    if (this.isWord('timeout')) {
      this.pos++;
      timeout = this.word('a timeout');
    }
    this.expectPunct('}');
    return { t: 'dynset', op, set: ref.text.slice(1), key, offset, ...(timeout ? { timeout } : {}) };
  }

  log(): Statement {
    this.pos++;
    const out: Statement & { t: 'log' } = { t: 'log' };
    for (;;) {
      if (this.isWord('prefix')) {
        this.pos++;
        out.prefix = this.word('a prefix');
      } else if (this.isWord('level')) {
        this.pos++;
        out.level = this.word('a level');
      } else if (this.isWord('group')) {
        this.pos++;
        out.group = this.number('a group');
      } else return out;
    }
  }

  limit(): Statement {
    this.pos++;
    if (!this.isWord('rate')) this.fail("expected 'rate'");
    this.pos++;
    let over = false;
    if (this.isWord('over')) {
      this.pos++;
      over = true;
    }
    const rateToken = this.next('a rate');
    const m = /^([0-9]+)\/(second|minute|hour|day|week)$/.exec(rateToken.text);
    if (!m) this.fail('expected <packets>/<second|minute|hour|day|week>', rateToken);
    let burst: number | undefined;
    if (this.isWord('burst')) {
      this.pos++;
      burst = this.number('a burst');
      if (this.isWord('packets')) this.pos++;
    }
    return {
      t: 'limit',
      rate: Number(m[1]),
      unit: m[2] as string,
      over,
      ...(burst !== undefined ? { burst } : {}),
    };
  }
}

/** Parse nft rule text into statements; unknown syntax is an NftRuleSyntaxError. */
export function parseRule(rule: string): Statement[] {
  const parser = new Parser(rule);
  const statements = parser.statements();
  if (statements.length === 0) parser.fail('a rule needs at least one statement');
  return statements;
}
