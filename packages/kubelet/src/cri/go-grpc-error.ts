import { type CriError, isCriError } from '@nodeagent/cri-client';
import { goGrpcCodeName } from '../go-grpc-codes';

/** A CRI error as Go's gRPC error prints: `rpc error: code = Unknown desc = <details>`. */
export function goGrpcError(error: CriError): string {
  return `rpc error: code = ${goGrpcCodeName(error.grpcCode)} desc = ${error.details}`;
}

/** An error as upstream's kubelet prints it: a CRI error in Go's gRPC form, anything else as is. */
export function goErrorText(error: unknown): string {
  if (isCriError(error)) return goGrpcError(error);
  return (error as Error)?.message ?? String(error);
}
