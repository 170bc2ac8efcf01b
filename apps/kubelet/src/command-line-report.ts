import { InvalidConfigError } from '@nodeagent/kubelet/errors';
import { isCodedError } from '@nodeagent/primitives';
import { CommandLineError } from './command-line-errors';

/**
 * Reports why the kubelet did not start, as upstream's cli.Run does (`Error: …`, exit 1): one line
 * per problem, naming the flag or field and the value. An operator's mistake (any nodeagent error,
 * which has a code) gets its stack trace only at -v=4 and above; anything else is a bug in this
 * program and keeps its stack. Returns the exit code.
 */
export function reportStartError(error: unknown, verbosity: number, write: (line: string) => void): number {
  if (error instanceof CommandLineError) {
    for (const problem of error.problems) write(`Error: ${problem.message}\n`);
  } else if (error instanceof InvalidConfigError) {
    const causes = error.causes.length > 0 ? error.causes : [error];
    // A flag's bad value is a command-line error; a field's, the configuration's.
    for (const cause of causes)
      write(`Error: ${cause.field.startsWith('-') ? '' : 'invalid configuration: '}${cause.message}\n`);
  } else if (isCodedError(error)) {
    write(`Error: ${error.message}\n`);
  } else {
    write(`Error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
  if (verbosity >= 4 && (error as Error).stack) write(`${(error as Error).stack}\n`);
  return 1;
}
