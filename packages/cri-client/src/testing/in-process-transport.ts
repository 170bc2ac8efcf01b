import { status } from '../grpc-js';
import { GrpcCallError, type UnaryCallOptions } from '../unary-channel';
import type { UnaryTransport } from '../unary-transport';

/** The longest delay a Node timer holds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a call on a closed transport fails with, as the socket channel's. */
const shutDown = () => new GrpcCallError(status.UNAVAILABLE, 'Channel has been shut down');

/** A unary method as a grpc-js server holds it: the handler and the codecs at its two ends. */
export interface InProcessMethod {
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
  handler(
    call: { request: unknown },
    callback: (error: { code?: number; details?: string } | null, answer?: unknown) => void,
  ): void;
}

/**
 * Unary calls answered by a server's handlers in this process: the request is serialized and
 * deserialized and the answer serialized as on the wire (so the client decodes what a socket
 * would have carried, defaults and all), but no socket, HTTP/2 framing or grpc-js call object
 * is made. For many fake runtimes in one process (a thousand hollow nodes, whose PLEG relists
 * spent ~40% of the process's busy time in the gRPC hop). Deadlines and cancellation end the
 * call as the socket channel does; the handler's own work is not interrupted.
 */
export class InProcessTransport implements UnaryTransport {
  private closed = false;
  /** Each call in flight's ending, so that close() can end them. */
  private readonly pending = new Set<(error: GrpcCallError) => void>();

  constructor(private readonly methods: ReadonlyMap<string, InProcessMethod>) {}

  call(path: string, request: Uint8Array, options: UnaryCallOptions): Promise<Buffer> {
    if (this.closed) return Promise.reject(shutDown());
    const method = this.methods.get(path);
    if (!method)
      return Promise.reject(
        new GrpcCallError(status.UNIMPLEMENTED, `The server does not implement the method ${path}`),
      );
    const timeoutMs = options.deadline - Date.now();
    if (timeoutMs <= 0)
      return Promise.reject(new GrpcCallError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
    return new Promise<Buffer>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => end(new GrpcCallError(status.CANCELLED, 'Cancelled on client'));
      const end = (error: GrpcCallError | undefined, answer?: Buffer) => {
        if (!this.pending.delete(end)) return;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(answer as Buffer);
      };
      this.pending.add(end);
      // An infinite deadline (RunInContainer's) arms no timer, nor one past a timer's range.
      if (timeoutMs <= MAX_TIMER_MS)
        timer = setTimeout(
          () => end(new GrpcCallError(status.DEADLINE_EXCEEDED, 'Deadline exceeded')),
          timeoutMs,
        );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) return onAbort();
      let decoded: unknown;
      try {
        decoded = method.requestDeserialize(
          Buffer.from(request.buffer, request.byteOffset, request.byteLength),
        );
      } catch (e) {
        return end(new GrpcCallError(status.INTERNAL, `Failed to parse request: ${(e as Error).message}`));
      }
      method.handler({ request: decoded }, (error, answer) => {
        if (error) return end(new GrpcCallError(error.code ?? status.UNKNOWN, error.details ?? ''));
        try {
          end(undefined, method.responseSerialize(answer));
        } catch (e) {
          end(new GrpcCallError(status.INTERNAL, `Failed to serialize response: ${(e as Error).message}`));
        }
      });
    });
  }

  close(): void {
    this.closed = true;
    for (const end of [...this.pending]) end(shutDown());
  }
}
