// nft rule text → tokens. `.` (concatenation) and `:` (map key : value) are tokens only when
// they stand alone between spaces, as nft writes them and our model carries them; inside a word
// they belong to it (`10.0.0.1`, `fd00::1`, `10.0.0.1:80`).

import { NftRuleSyntaxError } from './errors';

export type TokenKind = 'word' | 'string' | 'punct' | 'op';

export interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based offset in the rule text. */
  offset: number;
}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '&', '|', '^'];
const PUNCT = new Set(['{', '}', ',']);
const WORD_END = /[\s{},"]/;

export function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const c = rule[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < rule.length && rule[j] !== '"') {
        if (rule[j] === '\\' && j + 1 < rule.length) j++;
        text += rule[j];
        j++;
      }
      if (j >= rule.length) throw new NftRuleSyntaxError(rule, rule.slice(i), i, 'unterminated string');
      tokens.push({ kind: 'string', text, offset: i });
      i = j + 1;
      continue;
    }
    if (PUNCT.has(c)) {
      tokens.push({ kind: 'punct', text: c, offset: i });
      i++;
      continue;
    }
    const op = OPS.find((o) => rule.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, offset: i });
      i += op.length;
      continue;
    }
    let j = i;
    while (j < rule.length && !WORD_END.test(rule[j] as string)) j++;
    const text = rule.slice(i, j);
    tokens.push({ kind: text === '.' || text === ':' ? 'punct' : 'word', text, offset: i });
    i = j;
  }
  return tokens;
}
