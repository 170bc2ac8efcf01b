/** A command (ip, nsenter, a program inside a namespace) exited non-zero or could not start. */
export class NetnsCommandError extends Error {
  readonly code = 'NETNS_COMMAND_FAILED';
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    super(`${command.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || stdout.trim()}`);
    this.name = 'NetnsCommandError';
  }
}

/** A namespace or interface name that `ip` would reject or that could escape /run/netns. */
export class InvalidNetnsNameError extends Error {
  readonly code = 'NETNS_INVALID_NAME';
  constructor(
    readonly field: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${field}: ${JSON.stringify(value)} ${reason}`);
    this.name = 'InvalidNetnsNameError';
  }
}
