import { FieldError } from '@nodeagent/primitives';

/**
 * An operator mistake on the command line: one line naming the flag and the value, never a stack
 * trace (`invalid value "abc" for flag --nodes: must be a whole number from 1 to 60000`).
 */
export class HollowNodeFlagError extends FieldError {
  constructor(flag: string, value: unknown, reason: string) {
    super(
      'INVALID_FLAG',
      flag,
      value,
      reason,
      value === undefined
        ? `${flag}: ${reason}`
        : `invalid value ${JSON.stringify(value)} for flag ${flag}: ${reason}`,
    );
  }
}
