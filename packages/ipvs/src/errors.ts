import { CodedError, describeValue, errorPredicate } from '@nodeagent/primitives';

/** Base of every error this package throws; `code` is stable for callers to branch on. */
export class IpvsError extends CodedError {}

/** Invalid input, caught before anything is sent to the kernel. */
export class InvalidFieldError extends IpvsError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super('IPVS_INVALID_FIELD', `${field} ${describeValue(value)}: ${reason}`);
  }
}

/**
 * IPVS cannot be used: the kernel has no IPVS (module not loaded / not built, so the `IPVS` genl
 * family is missing), or this process cannot open a netlink socket because the native `netlink`
 * addon did not load (no prebuild for this platform, or a bundle that left it out).
 */
export class IpvsUnavailableError extends IpvsError {
  constructor(
    /** Why, without the advice: `generic netlink family "IPVS" not registered`. */
    readonly reason: string,
    message = `IPVS is not available in this kernel: ${reason} (is the ip_vs module loaded?)`,
  ) {
    super('IPVS_UNAVAILABLE', message);
  }
}

/** Errno the kernel answered with, naming the operation and the service/destination involved. */
export class IpvsKernelError extends IpvsError {
  constructor(
    readonly errno: number,
    readonly errnoName: string,
    readonly operation: string,
    readonly target: string,
    code = 'IPVS_KERNEL_ERROR',
  ) {
    super(code, `${operation} ${target}: ${errnoName} (errno ${errno})`);
  }
}

/** EEXIST: the service or destination is already there. */
export class IpvsAlreadyExistsError extends IpvsKernelError {
  constructor(errno: number, errnoName: string, operation: string, target: string) {
    super(errno, errnoName, operation, target, 'IPVS_ALREADY_EXISTS');
  }
}

/** ESRCH / ENOENT: no such service or destination. */
export class IpvsNotFoundError extends IpvsKernelError {
  constructor(errno: number, errnoName: string, operation: string, target: string) {
    super(errno, errnoName, operation, target, 'IPVS_NOT_FOUND');
  }
}

/** The handle was closed; no further requests are possible. */
export class IpvsClosedError extends IpvsError {
  constructor() {
    super('IPVS_CLOSED', 'the IPVS handle is closed');
  }
}

/** Whether an error is an IpvsUnavailableError, from either the ESM or the CJS build. */
export const isIpvsUnavailableError = errorPredicate(IpvsUnavailableError);
/** Whether an error is an IpvsKernelError, from either build. */
export const isIpvsKernelError = errorPredicate(IpvsKernelError);
/** Whether an error is an IpvsAlreadyExistsError, from either build. */
export const isIpvsAlreadyExistsError = errorPredicate(IpvsAlreadyExistsError);
/** Whether an error is an IpvsNotFoundError, from either build. */
export const isIpvsNotFoundError = errorPredicate(IpvsNotFoundError);
