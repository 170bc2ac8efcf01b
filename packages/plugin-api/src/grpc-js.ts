import type * as GrpcJs from '@grpc/grpc-js';

// grpc-js's index loads its whole client and server stack when evaluated (a noticeable part of
// an executable's start-up); a kubelet with no node plugin never needs it. Status codes come from
// its constants module alone; the rest is imported on first use.

export { Status as status } from '@grpc/grpc-js/build/src/constants.js';

let grpcJs: Promise<typeof GrpcJs> | undefined;

/** @grpc/grpc-js, evaluated on first use. */
export function loadGrpcJs(): Promise<typeof GrpcJs> {
  grpcJs ??= import('@grpc/grpc-js').then((m) => (m as { default?: typeof GrpcJs }).default ?? m);
  return grpcJs;
}
