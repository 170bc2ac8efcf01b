// Token quoting shared by the restore renderer and the save parser. iptables-restore splits a
// line on whitespace, treats "…" as one token and a backslash as escaping the next character;
// iptables-save quotes only tokens that need it. We do the same so payloads diff cleanly.

const bareToken = /^[^\s"'\\]+$/;

/** A token as iptables-save quotes it: bare when it can be, else in double quotes. */
export function quoteToken(token: string): string {
  if (bareToken.test(token)) return token;
  return `"${token.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Split one payload line into tokens, undoing quoting. Returns undefined on an open quote. A
 * full sync splits hundreds of thousands of lines: bare tokens and quoted ones without escapes
 * are sliced out of the line whole; only a token with a backslash or a quote inside it is built
 * character by character.
 */
export function splitTokens(line: string): string[] | undefined {
  const tokens: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    if (c === SPACE || c === TAB) {
      i++;
      continue;
    }
    const start = i;
    if (c === QUOTE) {
      // "…" closed before a separator or the end: the text between the quotes.
      // A backslash inside, or more text glued on, takes the slow path.
      const close = line.indexOf('"', i + 1);
      const next = close < 0 ? SPACE : line.charCodeAt(close + 1);
      const plain = close >= 0 && line.lastIndexOf('\\', close) < i;
      if (plain && (close + 1 === n || next === SPACE || next === TAB)) {
        tokens.push(line.slice(i + 1, close));
        i = close + 1;
        continue;
      }
      return splitTokensSlowly(line, tokens, start);
    }
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === SPACE || c === TAB) break;
      if (c === QUOTE || c === BACKSLASH) return splitTokensSlowly(line, tokens, start);
      i++;
    }
    tokens.push(line.slice(start, i));
  }
  return tokens;
}

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;

/** The rest of `line` from `from` (a token's start), character by character, after `tokens`. */
function splitTokensSlowly(line: string, tokens: string[], from: number): string[] | undefined {
  let current = '';
  let inToken = false;
  let quoted = false;
  for (let i = from; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
      inToken = true;
    } else if (c === '"') {
      quoted = !quoted;
      inToken = true;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += c;
      inToken = true;
    }
  }
  if (quoted) return undefined;
  if (inToken) tokens.push(current);
  return tokens;
}
