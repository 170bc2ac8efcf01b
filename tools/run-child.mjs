// A child process run to its end with SIGINT and SIGTERM passed on to it, for the scripts that
// run a long command beside its own cleanup (the soak, the benches). Without it a signal sent to
// the parent alone (`kill` of npm's process, a CI step's timeout) ends the parent at once and the
// child runs on, with all it started, where Ctrl-C in a terminal reaches both.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/**
 * Runs `command` with the terminal's stdio and resolves, once it has exited, with its exit code
 * (128 + the signal's number if a signal ended it) and the first signal passed on to it, if any.
 * Rejects with spawn's error (ENOENT for a command that is not installed).
 */
export function runChild(command, args, options = {}) {
  const child = spawn(command, args, { stdio: 'inherit', ...options });
  let forwarded;
  const forward = (signal) => {
    forwarded ??= signal;
    child.kill(signal);
  };
  process.on('SIGINT', forward).on('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      resolve({ status: code ?? 128 + (constants.signals[signal] ?? 0), signal: forwarded }),
    );
  }).finally(() => process.off('SIGINT', forward).off('SIGTERM', forward));
}
