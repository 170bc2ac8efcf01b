import { spawn } from 'node:child_process';
import { KubeProxyError } from '../errors';

/** A command failed; carries the argv, exit code and stderr so logs say exactly what broke. */
export class CommandFailedError extends KubeProxyError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super('COMMAND_FAILED', `${argv.join(' ')} exited with ${exitCode}: ${stderr.trim().slice(0, 2000)}`);
  }
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/** Runs argv (optionally with stdin), resolving with its output whatever the exit code. */
export function runCommand(argv: readonly string[], stdin?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        exitCode: code,
      }),
    );
    child.stdin.on('error', () => {}); // the command may exit before reading everything
    child.stdin.end(stdin ?? '');
  });
}

/** Runs argv and throws CommandFailedError unless it exits 0. */
export async function runChecked(argv: readonly string[], stdin?: string): Promise<string> {
  const r = await runCommand(argv, stdin);
  if (r.exitCode !== 0) throw new CommandFailedError(argv, r.exitCode, r.stderr);
  return r.stdout;
}
