import { KubeletError } from '@nodeagent/kubelet/errors';

/**
 * Operator mistakes on the command line and in the files it names. Each is reported as one line
 * naming the flag (or field) and the value, never with a stack trace (that is for -v=4 and up).
 */

/** A flag the kubelet does not have (pflag: `unknown flag: --x`). */
export class UnknownFlagError extends KubeletError {
  constructor(flag: string) {
    super('UNKNOWN_FLAG', flag, undefined, 'unknown flag', `unknown flag: ${flag}`);
  }
}

/** An argument that is not a flag: the kubelet takes none (upstream: `unknown command`). */
export class UnexpectedArgumentError extends KubeletError {
  constructor(argument: string) {
    super(
      'UNEXPECTED_ARGUMENT',
      'argument',
      argument,
      'the kubelet takes flags only',
      `unknown command "${argument}": the kubelet takes flags only (a bool flag takes its value as --flag=false)`,
    );
  }
}

/** A flag that needs a value given last on the command line without one. */
export class MissingFlagValueError extends KubeletError {
  constructor(flag: string) {
    super('MISSING_FLAG_VALUE', flag, undefined, 'needs an argument', `flag needs an argument: ${flag}`);
  }
}

/** A file named by a flag (--config, --kubeconfig…) that cannot be read. */
export class UnreadableFileError extends KubeletError {
  constructor(flag: string, path: string, cause: unknown, advice: string) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const why =
      code === 'ENOENT'
        ? 'no such file or directory'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : ((cause as Error | undefined)?.message ?? String(cause));
    super('UNREADABLE_FILE', flag, path, why, `${flag}: cannot read ${path}: ${why}; ${advice}`);
  }
}

/** Every problem of a command line, reported together (one line each). */
export class CommandLineError extends KubeletError {
  readonly problems: Error[];

  constructor(problems: Error[]) {
    const first = problems[0] as Partial<KubeletError> | undefined;
    super(
      'INVALID_COMMAND_LINE',
      first?.field ?? 'command line',
      first?.value,
      first?.reason ?? 'invalid',
      problems.map((problem) => problem.message).join('; '),
    );
    this.problems = problems;
  }
}
