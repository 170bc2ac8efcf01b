import type { UnaryCallOptions } from './unary-channel';

/**
 * How a CriClient's unary calls reach the runtime: a serialized request to a method path, the
 * answer's bytes back, or a rejection with a GrpcCallError (its gRPC status code and message).
 * The default is GrpcUnaryChannel (gRPC over HTTP/2 to the endpoint's socket); the fake runtime
 * also offers one that calls its handlers in the same process (`FakeRuntime.inProcessTransport`).
 */
export interface UnaryTransport {
  /**
   * Sends `request` (a serialized message) to the method at `path` (`/runtime.v1.RuntimeService/Version`)
   * and resolves to the answer's bytes; ends at `options.deadline` or when its signal aborts.
   */
  call(path: string, request: Uint8Array, options: UnaryCallOptions): Promise<Buffer>;
  /** Calls in flight fail with UNAVAILABLE, later ones at once. */
  close(): void;
}
