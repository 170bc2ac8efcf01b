import { NetfilterError } from '../errors';

/**
 * The producer of a streamed stdin failed before it finished. The command was killed before
 * the rest of its input (for iptables-restore: the COMMIT) reached it, so nothing it had not
 * already committed was applied; `cause` is what the producer threw.
 */
export class InputAbortedError extends NetfilterError {
  readonly code = 'NETFILTER_INPUT_ABORTED';
  constructor(
    readonly command: readonly string[],
    /** How many bytes of input the command had been given when the producer failed. */
    readonly bytesWritten: number,
    override readonly cause: unknown,
  ) {
    super(
      `${command[0]}: input producer failed after ${bytesWritten} bytes, command killed: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
    );
    this.name = 'InputAbortedError';
  }
}
