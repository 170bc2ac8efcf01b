import { CodedError, errorPredicate } from '@nodeagent/primitives';
import { status as GrpcStatus } from './grpc-js';

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(GrpcStatus)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

/** The name of a gRPC status code (`UNAVAILABLE` for 14), or `CODE_<n>`. */
function codeName(code: number): string {
  return CODE_NAMES[code] ?? `CODE_${code}`;
}

/** Go's spelling of a gRPC code (`DeadlineExceeded`), as upstream's kubelet prints it. */
function goCodeName(code: number): string {
  return codeName(code)
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}

/**
 * A call to a node plugin (or to the kubelet's own plugin-facing socket) that failed: `code` is
 * the gRPC status's name (`UNAVAILABLE` for a socket nobody serves, `DEADLINE_EXCEEDED`,
 * `UNIMPLEMENTED`...), `rpc` the method, `details` the other side's text. The message reads as
 * upstream's kubelet prints a gRPC error (`rpc error: code = Unavailable desc = ...`) after the
 * method and endpoint.
 */
export class PluginCallError extends CodedError {
  /** The gRPC status code as a number (14 for UNAVAILABLE). */
  readonly grpcCode: number;
  /** The method, e.g. `GetInfo`. */
  readonly rpc: string;
  /** The other side's own error text. */
  readonly details: string;
  /** The socket called. */
  readonly endpoint: string;

  constructor(rpc: string, grpcCode: number, details: string, endpoint: string, options?: ErrorOptions) {
    super(
      codeName(grpcCode),
      `${rpc} at ${endpoint}: rpc error: code = ${goCodeName(grpcCode)} desc = ${details}`,
      options,
    );
    this.grpcCode = grpcCode;
    this.rpc = rpc;
    this.details = details;
    this.endpoint = endpoint;
  }
}

const isAnyPluginCallError = errorPredicate(PluginCallError);

/** Whether `e` is a PluginCallError (from either build), with the given status name if one is named (`'UNAVAILABLE'`). */
export function isPluginCallError(e: unknown, code?: string): e is PluginCallError {
  return isAnyPluginCallError(e) && (code === undefined || e.code === code);
}
