import { spawn } from 'node:child_process';
import { NetnsCommandError } from './errors';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

export interface RunOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  /** Kill the child after this long (default 60 s) so a hung tool cannot hang a test run. */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Run a program without a shell (arguments are never re-split), collecting its output.
 * Throws NetnsCommandError on a non-zero exit unless `allowFailure` is set.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const command = [file, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => reject(new NetnsCommandError(command, null, error.message)));
    // A child that exits before reading all its input raises EPIPE on stdin: the exit code says more.
    child.stdin.on('error', () => {});
    child.on('close', (exitCode) => {
      const result = {
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
      };
      if (exitCode !== 0 && !options.allowFailure) {
        reject(new NetnsCommandError(command, exitCode, result.stderr, result.stdout));
      } else {
        resolve(result);
      }
    });
    child.stdin.end(options.input ?? '');
  });
}
