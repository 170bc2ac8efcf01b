/**
 * Upstream third_party/forked/golang/expansion: replaces $(VAR) with its value when VAR is
 * defined, leaves unknown references as they are, and turns $$ into a literal $.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const char = input[i]!;
    if (char !== '$' || i + 1 >= input.length) {
      out += char;
      i++;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        // Unterminated: upstream keeps the text as written.
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = name === '' ? undefined : lookup(name);
      out += value ?? `$(${name})`;
      i = close + 1;
      continue;
    }
    out += char;
    i++;
  }
  return out;
}
