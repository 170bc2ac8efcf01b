// Token quoting shared by the restore renderer and the save parser. iptables-restore splits a
// line on whitespace, treats "…" as one token and a backslash as escaping the next character;
// iptables-save quotes only tokens that need it. We do the same so payloads diff cleanly.

const bareToken = /^[^\s"'\\]+$/;

/** A token as iptables-save quotes it: bare when it can be, else in double quotes. */
export function quoteToken(token: string): string {
  if (bareToken.test(token)) return token;
  return `"${token.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Split one payload line into tokens, undoing quoting. Returns undefined on an open quote. */
export function splitTokens(line: string): string[] | undefined {
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
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
