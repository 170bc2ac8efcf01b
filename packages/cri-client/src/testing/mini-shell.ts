/**
 * A tiny stand-in for busybox `sh -c` used by the fake runtime, so scenarios written for the real
 * busybox image (echo to stdout/stderr, exit codes, sleeping forever) behave the same against the
 * fake. It is deliberately small: `;`/`&&`/newline-separated statements of `echo [-n] … [>&2]`,
 * `exit N`, `sleep N`, `true`, `false`. Short sleeps complete instantly; `sleep` of 1000 s or more
 * (or `infinity`) means "runs until stopped".
 */
export interface ShellResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The script reached a long sleep: as a container's main process it keeps running. */
  blocks: boolean;
}

/** Thrown when argv[0] is not something the mini shell can run (like exec's "executable file not found"). */
export class CommandNotFoundError extends Error {
  readonly code = 'COMMAND_NOT_FOUND';
  constructor(readonly command: string) {
    super(`exec: "${command}": executable file not found in $PATH`);
    this.name = 'CommandNotFoundError';
  }
}

const SHELLS = new Set(['sh', '/bin/sh', 'ash', '/bin/ash']);
const BUILTINS = new Set(['echo', 'exit', 'sleep', 'true', 'false']);
const LONG_SLEEP_SECONDS = 1000;

function baseName(cmd: string): string {
  return cmd.slice(cmd.lastIndexOf('/') + 1);
}

/** Split a statement into words, honouring single and double quotes. */
export function splitWords(statement: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let inWord = false;
  for (const ch of statement) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

function splitStatements(script: string): string[] {
  return script
    .split(/;|&&|\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function runStatement(words: string[], out: ShellResult): 'continue' | 'exit' | 'block' {
  let toStderr = false;
  const args = words.filter((w) => {
    if (w === '>&2' || w === '1>&2') {
      toStderr = true;
      return false;
    }
    return true;
  });
  const [cmd = '', ...rest] = args;
  const name = baseName(cmd);
  switch (name) {
    case 'echo': {
      const noNewline = rest[0] === '-n';
      const text = (noNewline ? rest.slice(1) : rest).join(' ') + (noNewline ? '' : '\n');
      if (toStderr) out.stderr += text;
      else out.stdout += text;
      out.exitCode = 0;
      return 'continue';
    }
    case 'exit':
      out.exitCode = Number.parseInt(rest[0] ?? '0', 10) & 0xff;
      return 'exit';
    case 'sleep': {
      const arg = rest[0] ?? '0';
      out.exitCode = 0;
      return arg === 'infinity' || Number(arg) >= LONG_SLEEP_SECONDS ? 'block' : 'continue';
    }
    case 'true':
      out.exitCode = 0;
      return 'continue';
    case 'false':
      out.exitCode = 1;
      return 'continue';
    default:
      out.stderr += `sh: ${cmd}: not found\n`;
      out.exitCode = 127;
      return 'continue';
  }
}

/** Run argv the way a container's main process or an ExecSync command would. */
export function runCommand(argv: string[]): ShellResult {
  const out: ShellResult = { stdout: '', stderr: '', exitCode: 0, blocks: false };
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new CommandNotFoundError('');
  let statements: string[][];
  if (SHELLS.has(cmd)) {
    // `sh` with no -c and no stdin reads EOF and exits 0.
    if (rest[0] !== '-c') return out;
    statements = splitStatements(rest[1] ?? '').map(splitWords);
  } else if (BUILTINS.has(baseName(cmd))) {
    statements = [argv];
  } else {
    throw new CommandNotFoundError(cmd);
  }
  for (const words of statements) {
    const next = runStatement(words, out);
    if (next === 'exit') break;
    if (next === 'block') {
      out.blocks = true;
      break;
    }
  }
  return out;
}
