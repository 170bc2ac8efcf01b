import { type CriError, isCriError } from '@nodeagent/cri-client';

/** Go's gRPC status code names (codes.Code.String()), by number. */
const goCodeNames = [
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
];

/** A CRI error as Go's gRPC error prints: `rpc error: code = Unknown desc = <details>`. */
export function goGrpcError(error: CriError): string {
  return `rpc error: code = ${goCodeNames[error.grpcCode] ?? `Code(${error.grpcCode})`} desc = ${error.details}`;
}

/** An error as upstream's kubelet prints it: a CRI error in Go's gRPC form, anything else as is. */
export function goErrorText(error: unknown): string {
  if (isCriError(error)) return goGrpcError(error);
  return (error as Error)?.message ?? String(error);
}
