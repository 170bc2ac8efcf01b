import type * as GrpcJs from '@grpc/grpc-js';

// grpc-js's index loads its whole client and server stack when evaluated: about 0.2 s of the
// kubelet executable's start-up, where only the GetContainerEvents stream needs it (unary calls
// go over node:http2, unary-channel.ts). Its status codes come from its constants module alone;
// the rest is imported the first time a stream is opened.

export { Status as status } from '@grpc/grpc-js/build/src/constants.js';

let grpcJs: Promise<typeof GrpcJs> | undefined;

/** @grpc/grpc-js, evaluated on first use. */
export function loadGrpcJs(): Promise<typeof GrpcJs> {
  grpcJs ??= import('@grpc/grpc-js').then((m) => (m as { default?: typeof GrpcJs }).default ?? m);
  return grpcJs;
}
