/** Go's short escapes for control characters (strconv.Quote). */
const shortEscapes: Record<string, string> = {
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

/** Whether Go's unicode.IsPrint would refuse this code point (controls, separators other than space, unassigned, private use). */
function unprintable(char: string): boolean {
  return /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|[^\S ]/u.test(char);
}

/**
 * Go's strconv.Quote (what `%q` prints): a double-quoted string with Go's escapes: `\n`, `\t`
 * and the other short ones, `\x7f` for other bytes below 0x80, `\u2028` (or `\U…`) for
 * unprintable code points, printable Unicode as it is.
 */
export function goQuote(text: string): string {
  let out = '"';
  for (const char of text) {
    const short = shortEscapes[char];
    const code = char.codePointAt(0) ?? 0;
    if (short) out += short;
    else if (!unprintable(char)) out += char;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}
