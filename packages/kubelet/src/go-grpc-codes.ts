/** Go's gRPC status code names (codes.Code.String()), by number: what upstream's error texts print. */
const GO_GRPC_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

/** A gRPC status code's name as Go prints it; `Code(<n>)` for a number Go has no name for. */
export function goGrpcCodeName(code: number): string {
  return GO_GRPC_CODE_NAMES[code] ?? `Code(${code})`;
}
