import { CodedError, errorPredicate, FieldError } from '@nodeagent/primitives';
import { status as GrpcStatus } from './grpc-js';

/** gRPC status code names, indexed by number (OK = 0 … UNAUTHENTICATED = 16). */
const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(GrpcStatus)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

/** The name of a gRPC status code (`NOT_FOUND` for 5), or the number as text. */
export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? `CODE_${code}`;
}

/**
 * A failed CRI call: the gRPC status, the RPC that failed and the runtime's message. `code` is
 * the status's name (`NOT_FOUND`, `UNAVAILABLE`...), so it reads like every other package's code
 * and callers branch on what the runtime meant rather than on which RPC failed; the number is
 * `grpcCode`.
 */
export class CriError extends CodedError {
  /** gRPC status code (see `status` from @grpc/grpc-js), e.g. 5 for NOT_FOUND. */
  readonly grpcCode: number;
  /** The same as `code` (e.g. "NOT_FOUND"); kept for readers written before `code` was the name. */
  readonly codeName: string;
  /** RPC name as in the .proto, e.g. "ContainerStatus". */
  readonly rpc: string;
  /** The runtime's own error text. */
  readonly details: string;
  readonly endpoint: string;

  constructor(rpc: string, code: number, details: string, endpoint: string, options?: { cause?: unknown }) {
    super(grpcCodeName(code), `${rpc}: ${grpcCodeName(code)}: ${details}`, options);
    this.rpc = rpc;
    this.grpcCode = code;
    this.codeName = grpcCodeName(code);
    this.details = details;
    this.endpoint = endpoint;
  }
}

/** The runtime's socket could not be reached (missing, refused, or the runtime died mid-call). */
export class RuntimeUnreachableError extends CriError {
  constructor(rpc: string, details: string, endpoint: string, options?: { cause?: unknown }) {
    super(rpc, GrpcStatus.UNAVAILABLE, details, endpoint, options);
    this.message = `runtime unreachable at ${endpoint} (${rpc}): ${connectionFailure(details)}; is the container runtime running, and is this its socket? (kubelet: --container-runtime-endpoint / containerRuntimeEndpoint)`;
  }
}

/**
 * The cause inside grpc-js's connection-failure text: `No connection established. Last error:
 * Error: connect ENOENT /run/x.sock. Resolution note: ` becomes `connect ENOENT /run/x.sock`
 * (the wrapper says nothing an operator can act on, and the resolution note is usually empty).
 */
export function connectionFailure(details: string): string {
  const last = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note: (.*))?$/s.exec(details);
  if (!last?.[1]) return details;
  const note = last[2]?.trim();
  return note ? `${last[1]} (${note})` : last[1];
}

/** The runtime answered Version with an API version this client does not speak. */
export class UnsupportedRuntimeApiError extends FieldError {
  declare readonly value: string;

  constructor(
    field: string,
    value: string,
    readonly endpoint: string,
  ) {
    const reason = 'this client speaks runtime.v1';
    super(
      'UNSUPPORTED_RUNTIME_API',
      field,
      value,
      reason,
      `runtime at ${endpoint} reports ${field}=${JSON.stringify(value)}; ${reason}`,
    );
  }
}

/** A request argument the client rejects before sending anything. */
export class InvalidArgumentError extends FieldError {
  constructor(field: string, value: unknown, reason: string) {
    super('INVALID_ARGUMENT', field, value, reason, `${field}=${JSON.stringify(value)}: ${reason}`);
  }
}

/**
 * Whether an error is a CriError (a RuntimeUnreachableError too), from either the ESM or the CJS
 * build: an app that both imports and requires this package has two CriError classes.
 */
export const isCriError = errorPredicate(CriError);

function hasCode(e: unknown, code: number): boolean {
  return isCriError(e) && e.grpcCode === code;
}

/** Whether a CRI call failed with NOT_FOUND. */
export const isNotFound = (e: unknown): e is CriError => hasCode(e, GrpcStatus.NOT_FOUND);
/** Whether a CRI call failed with ALREADY_EXISTS. */
export const isAlreadyExists = (e: unknown): e is CriError => hasCode(e, GrpcStatus.ALREADY_EXISTS);
/** Whether a CRI call failed with UNAVAILABLE (runtime down or restarting). */
export const isUnavailable = (e: unknown): e is CriError => hasCode(e, GrpcStatus.UNAVAILABLE);
/** Whether a CRI call failed with UNIMPLEMENTED (the runtime lacks the RPC). */
export const isUnimplemented = (e: unknown): e is CriError => hasCode(e, GrpcStatus.UNIMPLEMENTED);
/** Whether a CRI call failed with DEADLINE_EXCEEDED. */
export const isDeadlineExceeded = (e: unknown): e is CriError => hasCode(e, GrpcStatus.DEADLINE_EXCEEDED);
/** Whether a CRI call failed with CANCELLED (e.g. its signal aborted). */
export const isCancelled = (e: unknown): e is CriError => hasCode(e, GrpcStatus.CANCELLED);
/** Whether a CRI call failed with INVALID_ARGUMENT. */
export const isInvalidArgument = (e: unknown): e is CriError => hasCode(e, GrpcStatus.INVALID_ARGUMENT);

/** Turn a grpc-js ServiceError (or anything thrown) into a CriError for `rpc`. */
export function toCriError(rpc: string, endpoint: string, e: unknown): CriError {
  if (isCriError(e)) return e;
  const err = e as { code?: number; details?: string; message?: string };
  const code = typeof err.code === 'number' ? err.code : GrpcStatus.UNKNOWN;
  const details = err.details ?? err.message ?? String(e);
  if (code === GrpcStatus.UNAVAILABLE)
    return new RuntimeUnreachableError(rpc, details, endpoint, { cause: e });
  return new CriError(rpc, code, details, endpoint, { cause: e });
}
