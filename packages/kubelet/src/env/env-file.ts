import { KubeletError } from '../errors';

/**
 * An env file (EnvFiles, v1.36) the kubelet cannot read. Upstream's parser is strict so that what
 * the kubelet reads is what a POSIX shell would read from the same file: `KEY='value'` lines only.
 * `reason` holds upstream's wording ("invalid environment variable format at line 2: ...").
 */
export class EnvFileSyntaxError extends KubeletError {
  constructor(path: string, line: number, problem: string) {
    const reason = `invalid environment variable format at line ${line}${problem ? `: ${problem}` : ''}`;
    super('ENV_FILE_SYNTAX', path, line, reason, reason);
  }
}

/**
 * The value of `key` in an env file's text, or undefined when no line sets it (upstream ParseEnv,
 * v1.36). The format, checked on every line up to the one that sets the key:
 * - leading blanks are ignored; empty lines and lines starting with `#` are comments;
 * - a line is `NAME='value'`: no blank before `=`, the value in single quotes (no escapes, `$`
 *   never expanded, a value may span lines until its closing quote);
 * - after the closing quote only blanks and a `# comment` may follow.
 */
export function envFileValue(text: string, key: string, path = 'env file'): string | undefined {
  let at = 0;
  let line = 1;
  while (at < text.length) {
    const lineStart = line;
    const newline = text.indexOf('\n', at);
    const rawLine = text.slice(at, newline === -1 ? text.length : newline);
    const content = rawLine.replace(/^[ \t]+/, '');
    if (content === '' || content.startsWith('#')) {
      at = newline === -1 ? text.length : newline + 1;
      line++;
      continue;
    }
    const contentStart = at + (rawLine.length - content.length);
    const equals = content.indexOf('=');
    if (equals === -1) throw new EnvFileSyntaxError(path, lineStart, '');
    const name = content.slice(0, equals);
    if (name === '') throw new EnvFileSyntaxError(path, lineStart, '');
    if (/[ \t]$/.test(name))
      throw new EnvFileSyntaxError(path, lineStart, "whitespace before '=' is not allowed");
    const valueStart = contentStart + equals + 1;
    if (text[valueStart] !== "'")
      throw new EnvFileSyntaxError(path, lineStart, 'value must be enclosed in single quotes');
    const close = text.indexOf("'", valueStart + 1);
    if (close === -1) throw new EnvFileSyntaxError(path, lineStart, 'unterminated quoted value');
    const value = text.slice(valueStart + 1, close);
    line += countNewlines(value);
    const restEnd = text.indexOf('\n', close + 1);
    const rest = text.slice(close + 1, restEnd === -1 ? text.length : restEnd);
    if (!/^[ \t]*(#.*)?$/.test(rest))
      throw new EnvFileSyntaxError(path, line, 'unexpected content after closing quote');
    if (name === key) return value;
    at = restEnd === -1 ? text.length : restEnd + 1;
    line++;
  }
  return undefined;
}

function countNewlines(text: string): number {
  let count = 0;
  for (const char of text) if (char === '\n') count++;
  return count;
}
