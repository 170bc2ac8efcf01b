import { CodedError, errorPredicate, FieldError } from '@nodeagent/primitives';
import { status as GrpcStatus } from './grpc-js';

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
 * A failed call to a node plugin (CSI driver or registration socket): `code` is the gRPC status's
 * name (`NOT_FOUND`, `DEADLINE_EXCEEDED`...), `rpc` the method as in the .proto, `details` the
 * plugin's own text. The message reads as upstream's kubelet prints a gRPC error
 * (`rpc error: code = NotFound desc = ...`) after the method and endpoint.
 */
export class CsiError extends CodedError {
  /** The gRPC status code as a number (5 for NOT_FOUND). */
  readonly grpcCode: number;
  /** The method, e.g. "NodePublishVolume". */
  readonly rpc: string;
  /** The plugin's own error text. */
  readonly details: string;
  /** The socket called. */
  readonly endpoint: string;

  constructor(rpc: string, code: number, details: string, endpoint: string, options?: ErrorOptions) {
    super(
      grpcCodeName(code),
      `${rpc} at ${endpoint}: rpc error: code = ${goCodeName(code)} desc = ${details}`,
      options,
    );
    this.rpc = rpc;
    this.grpcCode = code;
    this.details = details;
    this.endpoint = endpoint;
  }
}

/** The plugin's socket could not be reached: missing, refused, or the plugin died mid-call. */
export class PluginUnreachableError extends CsiError {
  constructor(rpc: string, details: string, endpoint: string, options?: ErrorOptions) {
    super(rpc, GrpcStatus.UNAVAILABLE, details, endpoint, options);
    this.message = `${rpc}: plugin unreachable at ${endpoint}: ${details}; is the driver running, and is this its socket?`;
  }
}

/** The call outlived its deadline (upstream's timeouts: see `CSI_TIMEOUT_MS`). */
export class PluginTimeoutError extends CsiError {
  constructor(rpc: string, timeoutMs: number, endpoint: string, options?: ErrorOptions) {
    super(
      rpc,
      GrpcStatus.DEADLINE_EXCEEDED,
      `context deadline exceeded after ${timeoutMs} ms`,
      endpoint,
      options,
    );
  }
}

/** A value given to the client that it cannot send (an endpoint that is no unix socket, a bad timeout). */
export class InvalidCsiArgumentError extends FieldError {
  constructor(field: string, value: unknown, reason: string) {
    super('INVALID_ARGUMENT', field, value, reason);
  }
}

/** Go's spelling of a gRPC code (`NotFound`), as upstream's logs and events carry it. */
function goCodeName(code: number): string {
  return grpcCodeName(code)
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}

const isAnyCsiError = errorPredicate(CsiError);

/** Whether `e` is a CsiError (from either build) with the given status name (`'NOT_FOUND'`). */
export function isCsiError(e: unknown, code?: string): e is CsiError {
  return isAnyCsiError(e) && (code === undefined || e.code === code);
}
