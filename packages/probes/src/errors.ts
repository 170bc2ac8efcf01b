import { errorPredicate, FieldError, withCode } from '@nodeagent/primitives';

/** Base class of every error this package throws: a stable `code` plus the offending field and value. */
export class ProbeError extends FieldError {}

/** A probe spec that the API server would reject (wrong number of handlers, bad numbers, ...). */
export class InvalidProbeError extends withCode(ProbeError, 'INVALID_PROBE') {}

/** A named port (`httpGet.port: "http"`) that the container does not declare. */
export class PortNotFoundError extends withCode(ProbeError, 'PORT_NOT_FOUND') {}

/** Thrown by an exec executor when the command outlived its timeout; the probe reports Failure. */
export class ExecTimeoutError extends ProbeError {
  constructor(command: readonly string[], timeoutMs: number) {
    super('EXEC_TIMEOUT', 'exec.command', command, `command timed out after ${timeoutMs}ms`);
  }
}

/** Whether an error is an InvalidProbeError, from either the ESM or the CJS build. */
export const isInvalidProbeError = errorPredicate(InvalidProbeError);
/** Whether an error is a PortNotFoundError, from either the ESM or the CJS build. */
export const isPortNotFoundError = errorPredicate(PortNotFoundError);
