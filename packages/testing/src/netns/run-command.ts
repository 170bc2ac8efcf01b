import {
  CommandFailedError,
  type CommandOutput,
  type RunCommandOptions,
  runCommand as runArgv,
} from '@nodeagent/primitives';

/** What a command printed and how it ended. */
export type CommandResult = CommandOutput;

/** A command's stdin, timeout, environment and whether failure is allowed. */
export interface RunOptions extends Pick<RunCommandOptions, 'env'> {
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  /** Kill the child after this long (default 60 s) so a hung tool cannot hang a test run. */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

/**
 * Runs a program without a shell (arguments are never re-split), collecting its output.
 * Throws CommandFailedError (exported here as NetnsCommandError too) on a non-zero exit unless
 * `allowFailure` is set: test setup should stop at the first tool that fails.
 */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const command = [file, ...args];
  const result = await runArgv(command, {
    input: options.input,
    env: options.env,
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  if (result.exitCode !== 0 && !options.allowFailure) {
    throw new CommandFailedError(command, result.exitCode, result.stderr, result.stdout);
  }
  return result;
}
