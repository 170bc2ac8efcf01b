/**
 * Why the CPU manager refused a container's CPUs, as upstream's admission turns it into a pod
 * rejection: an error with its own type (SMTAlignmentError) gives reason and message; any other
 * is an UnexpectedAdmissionError "Allocate failed due to …, which is unexpected".
 */
export class CpuAllocationError extends Error {
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }

  /** Upstream's unexpectedAdmissionError around an error of no admission type. */
  static unexpected(cause: string): CpuAllocationError {
    return new CpuAllocationError(
      'UnexpectedAdmissionError',
      `Allocate failed due to ${cause}, which is unexpected`,
    );
  }

  /** Upstream SMTAlignmentError (full-pcpus-only), in its two wordings. */
  static smtAlignment(
    requested: number,
    cpusPerCore: number,
    availablePhysical?: number,
  ): CpuAllocationError {
    const message =
      availablePhysical === undefined
        ? `SMT Alignment Error: requested ${requested} cpus not multiple cpus per core = ${cpusPerCore}`
        : `SMT Alignment Error: not enough free physical CPUs: available physical CPUs = ${availablePhysical}, requested CPUs = ${requested}, CPUs per core = ${cpusPerCore}`;
    return new CpuAllocationError('SMTAlignmentError', message);
  }
}
