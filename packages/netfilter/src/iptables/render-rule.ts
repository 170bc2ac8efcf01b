import { formatHex, formatPort, formatProbability } from './format';
import type { Match, Rule, Target } from './model';
import { quoteToken } from './quoting';

/**
 * Collects a rule's tokens into one string as it goes (no per-rule token array to join: a
 * 10k-Service ruleset has 320k rules).
 */
class TokenSink {
  text = '';
  push(...tokens: string[]): void {
    for (const token of tokens) this.text = this.text.length === 0 ? token : `${this.text} ${token}`;
  }
}

function neg(out: TokenSink, negate: boolean | undefined): void {
  if (negate) out.push('!');
}

function markValue(value: number, mask?: number): string {
  return mask === undefined ? formatHex(value) : `${formatHex(value)}/${formatHex(mask)}`;
}

export function pushMatch(out: TokenSink, match: Match): void {
  switch (match.kind) {
    case 'protocol':
      neg(out, match.negate);
      out.push('-p', match.protocol);
      return;
    case 'source':
      neg(out, match.negate);
      out.push('-s', match.address);
      return;
    case 'destination':
      neg(out, match.negate);
      out.push('-d', match.address);
      return;
    case 'in-interface':
      neg(out, match.negate);
      out.push('-i', match.name);
      return;
    case 'out-interface':
      neg(out, match.negate);
      out.push('-o', match.name);
      return;
    case 'port':
      out.push('-m', match.protocol);
      if (match.sourcePort !== undefined) {
        neg(out, match.negateSource);
        out.push('--sport', formatPort(match.sourcePort));
      }
      if (match.destinationPort !== undefined) {
        neg(out, match.negateDestination);
        out.push('--dport', formatPort(match.destinationPort));
      }
      return;
    case 'multiport':
      out.push('-m', 'multiport');
      neg(out, match.negate);
      out.push(match.direction === 'source' ? '--sports' : '--dports', match.ports.map(formatPort).join(','));
      return;
    case 'comment':
      out.push('-m', 'comment', '--comment', quoteToken(match.comment));
      return;
    case 'statistic':
      if (match.mode === 'random') {
        out.push(
          '-m',
          'statistic',
          '--mode',
          'random',
          '--probability',
          formatProbability(match.probability),
        );
      } else {
        out.push(
          '-m',
          'statistic',
          '--mode',
          'nth',
          '--every',
          String(match.every),
          '--packet',
          String(match.packet),
        );
      }
      return;
    case 'recent':
      out.push('-m', 'recent');
      neg(out, match.negate);
      out.push(`--${match.action}`, '--name', quoteToken(match.name));
      if (match.seconds !== undefined) out.push('--seconds', String(match.seconds));
      if (match.hitcount !== undefined) out.push('--hitcount', String(match.hitcount));
      if (match.reap) out.push('--reap');
      if (match.side) out.push(match.side === 'source' ? '--rsource' : '--rdest');
      return;
    case 'addrtype':
      out.push('-m', 'addrtype');
      if (match.sourceType) {
        neg(out, match.negateSource);
        out.push('--src-type', match.sourceType);
      }
      if (match.destinationType) {
        neg(out, match.negateDestination);
        out.push('--dst-type', match.destinationType);
      }
      return;
    case 'conntrack':
      out.push('-m', 'conntrack');
      neg(out, match.negate);
      out.push('--ctstate', match.states.join(','));
      return;
    case 'mark':
      out.push('-m', 'mark');
      neg(out, match.negate);
      out.push('--mark', markValue(match.value, match.mask));
      return;
    case 'set':
      out.push('-m', 'set');
      neg(out, match.negate);
      out.push('--match-set', quoteToken(match.name), match.flags.join(','));
      return;
    case 'module':
      out.push('-m', match.module);
      for (const arg of match.args) out.push(quoteToken(arg));
      return;
  }
}

export function pushTarget(out: TokenSink, target: Target): void {
  switch (target.kind) {
    case 'verdict':
      out.push('-j', target.verdict);
      return;
    case 'jump':
      out.push(target.goto ? '-g' : '-j', target.chain);
      return;
    case 'reject':
      out.push('-j', 'REJECT');
      if (target.with) out.push('--reject-with', target.with);
      return;
    case 'dnat':
      out.push('-j', 'DNAT', '--to-destination', target.toDestination);
      if (target.random) out.push('--random');
      if (target.persistent) out.push('--persistent');
      return;
    case 'snat':
      out.push('-j', 'SNAT', '--to-source', target.toSource);
      if (target.random) out.push('--random');
      if (target.randomFully) out.push('--random-fully');
      if (target.persistent) out.push('--persistent');
      return;
    case 'masquerade':
      out.push('-j', 'MASQUERADE');
      if (target.toPorts !== undefined) out.push('--to-ports', formatPort(target.toPorts).replace(':', '-'));
      if (target.random) out.push('--random');
      if (target.randomFully) out.push('--random-fully');
      return;
    case 'mark':
      out.push('-j', 'MARK');
      if (target.op === 'xset') out.push('--set-xmark', markValue(target.value, target.mask));
      else out.push(`--${target.op}-mark`, formatHex(target.value));
      return;
    case 'extension':
      out.push('-j', target.name);
      for (const arg of target.args) out.push(quoteToken(arg));
      return;
  }
}

/** The rule's arguments as they follow `-A CHAIN` in a restore payload. */
export function renderRuleArgs(rule: Rule): string {
  const out = new TokenSink();
  for (const match of rule.matches) pushMatch(out, match);
  if (rule.target) pushTarget(out, rule.target);
  return out.text;
}
