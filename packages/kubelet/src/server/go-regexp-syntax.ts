// The node log query's `pattern` is checked with Go's regexp/syntax.Parse(pattern, syntax.Perl)
// before journalctl sees it (--grep, PCRE2). This scanner finds the RE2 syntax errors a user
// meets most and words them as Go's syntax.Error does (`error parsing regexp: <code>: `<expr>``):
// a trailing backslash, an escape RE2 does not know (backreferences included), lookahead, an
// unclosed or unopened group, an unclosed class, a repetition with nothing to repeat or repeated
// twice. A pattern RE2 rejects for a rarer reason (a bad counted repetition, a bad named group,
// a bad \p class) is passed on here.

/** The letters RE2 accepts after a backslash (with a digit 0 for octal). */
const letterEscapes = new Set('afntrvdDsSwWbBAzpPQEx0');

const failure = (code: string, expr: string) => `error parsing regexp: ${code}: \`${expr}\``;

/** The end index (exclusive) of a class opening at `start`, or -1 when it never closes. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i + 1;
  }
  return -1;
}

/** What Go's regexp/syntax says about `pattern` under the Perl flags; undefined when it parses. */
export function goRegexpSyntaxError(pattern: string): string | undefined {
  let depth = 0;
  // Whether the previous item can be repeated, and whether it already is a repetition.
  let operand = false;
  let repeated = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) return failure('trailing backslash at end of expression', '');
      if (/[0-9A-Za-z]/.test(next) && !letterEscapes.has(next))
        return failure('invalid escape sequence', `\\${next}`);
      i++;
      [operand, repeated] = [true, false];
    } else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end < 0) return failure('missing closing ]', pattern.slice(i));
      i = end - 1;
      [operand, repeated] = [true, false];
    } else if (c === '(') {
      if (pattern.startsWith('(?=', i) || pattern.startsWith('(?!', i))
        return failure('invalid or unsupported Perl syntax', pattern.slice(i, i + 3));
      if (pattern[i + 1] === '?') {
        // A named group `(?P<name>` / `(?<name>`, a flagged group `(?i:`, or flags alone `(?i)`.
        const named = /^\(\?P?<[^>]*>/.exec(pattern.slice(i));
        const flags = /^\(\?[imsU-]*[:)]/.exec(pattern.slice(i));
        const opened = named?.[0] ?? flags?.[0];
        if (opened === undefined) return failure('missing argument to repetition operator', '?');
        i += opened.length - 1;
        if (opened.endsWith(')')) continue;
      }
      depth++;
      [operand, repeated] = [false, false];
    } else if (c === ')') {
      if (depth === 0) return failure('unexpected )', pattern);
      depth--;
      [operand, repeated] = [true, false];
    } else if (c === '|') {
      [operand, repeated] = [false, false];
    } else if (c === '*' || c === '+' || c === '?') {
      // `x*?` is the lazy form, allowed once.
      if (c === '?' && repeated && pattern[i - 1] !== '?') continue;
      if (repeated) return failure('invalid nested repetition operator', pattern.slice(i - 1, i + 1));
      if (!operand) return failure('missing argument to repetition operator', c);
      repeated = true;
    } else {
      [operand, repeated] = [true, false];
    }
  }
  return depth > 0 ? failure('missing closing )', pattern) : undefined;
}
