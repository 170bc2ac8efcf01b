import http2 from 'node:http2';
import net from 'node:net';
import { status } from './grpc-js';

/** The longest delay a Node timer holds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** gRPC's mapping of an HTTP status other than 200 to a status code (gRPC's http-grpc-status-mapping). */
const CODE_OF_HTTP_STATUS: Record<number, number> = {
  400: status.INTERNAL,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.UNIMPLEMENTED,
  429: status.UNAVAILABLE,
  502: status.UNAVAILABLE,
  503: status.UNAVAILABLE,
  504: status.UNAVAILABLE,
};

/**
 * The HTTP/2 error codes by number, each with grpc-go's status code for a stream the runtime
 * reset with it (its http2ErrConvTab): a reset mid-answer is the runtime's failure, not an
 * unreachable runtime, except REFUSED_STREAM (nothing was done).
 */
const RESETS: readonly { name: string; code: number }[] = [
  { name: 'NO_ERROR', code: status.INTERNAL },
  { name: 'PROTOCOL_ERROR', code: status.INTERNAL },
  { name: 'INTERNAL_ERROR', code: status.INTERNAL },
  { name: 'FLOW_CONTROL_ERROR', code: status.RESOURCE_EXHAUSTED },
  { name: 'SETTINGS_TIMEOUT', code: status.INTERNAL },
  { name: 'STREAM_CLOSED', code: status.INTERNAL },
  { name: 'FRAME_SIZE_ERROR', code: status.INTERNAL },
  { name: 'REFUSED_STREAM', code: status.UNAVAILABLE },
  { name: 'CANCEL', code: status.CANCELLED },
  { name: 'COMPRESSION_ERROR', code: status.INTERNAL },
  { name: 'CONNECT_ERROR', code: status.INTERNAL },
  { name: 'ENHANCE_YOUR_CALM', code: status.RESOURCE_EXHAUSTED },
  { name: 'INADEQUATE_SECURITY', code: status.PERMISSION_DENIED },
  { name: 'HTTP_1_1_REQUIRED', code: status.INTERNAL },
];

/** A stream reset by the runtime (or by nghttp2 on a frame it cannot take), as grpc-go reports it. */
function resetFailure(rstCode: number): GrpcCallError {
  const reset = RESETS[rstCode];
  const name = reset?.name ?? `unknown error code 0x${rstCode.toString(16)}`;
  return new GrpcCallError(
    reset?.code ?? status.UNKNOWN,
    `stream terminated by RST_STREAM with error code: ${name}`,
    rstCode,
  );
}

/**
 * Resets after which the connection is not used again: a header block nghttp2 could not take
 * (a field over 64 KiB) leaves the connection's header compression state behind the runtime's, and
 * nghttp2 refuses every later stream on it.
 */
const CONNECTION_SPOILING_RESETS = new Set([0x1, 0x6, 0x9]);

/**
 * Connections the runtime sent GOAWAY on: a call on one that ends without a status lost its
 * connection (grpc-go: UNAVAILABLE), rather than being answered badly (INTERNAL).
 */
const goneAway = new WeakSet<http2.ClientHttp2Session>();

/** A gRPC call's failure: its status code and message, as grpc-js reports them (`code`, `details`). */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    /** The HTTP/2 error code of the reset that ended the call, if one did. */
    readonly rstCode?: number,
  ) {
    super(`${code} ${details}`);
  }
}

/** One call's deadline (epoch ms) and its cancellation. */
export interface UnaryCallOptions {
  deadline: number;
  signal?: AbortSignal;
}

/**
 * Unary gRPC calls over one HTTP/2 connection to a unix socket, with node:http2 and nothing
 * between: the gRPC framing (a 5-byte prefix: compressed flag, big-endian length), the
 * `grpc-timeout` header and the status in the trailers. Why not grpc-js for these: a kubelet
 * makes two list calls every second and, at 110 probed pods, an ExecSync eleven times a second;
 * grpc-js's per-call machinery (interceptors, the retrying call, call credentials, filters) cost
 * 1.9 ms of CPU per ListPodSandbox + ListContainers pair against containerd, this channel 0.7 ms
 * (both measured in one process against the same containerd, 2,000 pairs each).
 *
 * The connection is made on the first call and again after it closes or the runtime sends
 * GOAWAY; a call made while the runtime is down fails at once with UNAVAILABLE and the socket's
 * error (`connect ENOENT /run/containerd/containerd.sock`). The connection keeps the process
 * alive only while calls are in flight.
 */
export class GrpcUnaryChannel {
  private session: http2.ClientHttp2Session | undefined;
  private inFlight = 0;
  private closed = false;
  /** Calls in flight per connection (a connection without any is not in the map). */
  private readonly calls = new Map<http2.ClientHttp2Session, number>();

  constructor(
    private readonly socketPath: string,
    private readonly maxMessageBytes: number,
  ) {}

  /** Sends `request` (a serialized message) to `path` and resolves to the answer's bytes. */
  call(path: string, request: Uint8Array, options: UnaryCallOptions): Promise<Buffer> {
    if (request.length > this.maxMessageBytes) {
      const why = `Sent message larger than max (${request.length} vs. ${this.maxMessageBytes})`;
      return Promise.reject(new GrpcCallError(status.RESOURCE_EXHAUSTED, why));
    }
    if (this.closed)
      return Promise.reject(new GrpcCallError(status.UNAVAILABLE, 'Channel has been shut down'));
    // An infinite deadline (upstream's RunInContainer has none) sends no grpc-timeout and arms no timer.
    const timeoutMs = Math.max(0, options.deadline - Date.now());
    if (timeoutMs === 0)
      return Promise.reject(new GrpcCallError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
    return new Promise<Buffer>((resolve, reject) => {
      const session = this.openSession();
      this.started(session);
      const call = new UnaryCall(this.maxMessageBytes, (err, answer) => {
        if (err?.rstCode !== undefined && CONNECTION_SPOILING_RESETS.has(err.rstCode)) this.retire(session);
        this.ended(session);
        if (err) reject(err);
        else resolve(answer as Buffer);
      });
      call.start(session, path, request, timeoutMs, options.signal);
    });
  }

  /** Closes the connection; calls in flight fail with UNAVAILABLE, later ones at once. */
  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  private openSession(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect('http://localhost', {
      createConnection: () => net.connect(this.socketPath),
      maxSessionMemory: Math.ceil((2 * this.maxMessageBytes) / (1024 * 1024)),
      // grpc-go's client takes header lists up to 16 MiB (a long grpc-message); Node's default
      // (64 KiB) would refuse such trailers as REFUSED_STREAM, read as "runtime unreachable".
      // nghttp2 still refuses one field over 64 KiB: that stream fails with FRAME_SIZE_ERROR.
      settings: { maxHeaderListSize: 16 * 1024 * 1024 },
    });
    // A failed connect or a dead runtime fails the session's streams; the session's own error
    // is already theirs, so it is not thrown again.
    session.on('error', () => {});
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on('close', forget);
    // After GOAWAY the runtime takes no new streams here: the calls in flight finish, the next
    // call opens a new connection, and this one is destroyed once its calls are done. (Not
    // close(): on Node 20 a session closed after GOAWAY counts as destroyed but leaves the socket
    // made by createConnection open.)
    session.on('goaway', () => {
      goneAway.add(session);
      forget();
      if (!this.calls.has(session)) session.destroy();
    });
    if (this.inFlight === 0) session.unref();
    this.session = session;
    return session;
  }

  /** The next call opens a new connection; `session` goes once its calls are done (see ended). */
  private retire(session: http2.ClientHttp2Session): void {
    if (this.session === session) this.session = undefined;
  }

  /** Counts a call on `session`; the first call in flight keeps the process alive. */
  private started(session: http2.ClientHttp2Session): void {
    this.calls.set(session, (this.calls.get(session) ?? 0) + 1);
    if (++this.inFlight === 1) session.ref();
  }

  /** A call on `session` ended: the process may exit when none is in flight; a replaced connection goes. */
  private ended(session: http2.ClientHttp2Session): void {
    const left = (this.calls.get(session) ?? 1) - 1;
    if (left > 0) this.calls.set(session, left);
    else this.calls.delete(session);
    if (--this.inFlight === 0) this.session?.unref();
    if (left === 0 && session !== this.session) {
      session.unref();
      session.destroy();
    }
  }
}

/**
 * One call in flight: its stream, timer and the answer's bytes as they arrive.
 *
 * The answer is copied into a buffer of its own, of the length its prefix announces, as each DATA
 * chunk arrives; no chunk is kept. A chunk is a view into the connection's whole socket read,
 * which carries other calls' frames too: one kept by a call that lives long enough to reach V8's
 * old generation (an ExecSync waiting on its process) kept that read, a relist's 57 kB answer
 * included, until a full collection.
 */
class UnaryCall {
  private stream: http2.ClientHttp2Stream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private signal: AbortSignal | undefined;
  /** The answer's bytes received so far, its 5-byte prefix included. */
  private received = 0;
  /** The prefix's first byte: 1 for a compressed message. */
  private compressedFlag = 0;
  /** The answer's message length, from its prefix. */
  private length = 0;
  /** The message, allocated once its prefix is in and its length within the limit. */
  private message: Buffer | undefined;
  /** Whether the connection went (GOAWAY, the socket closed) before this call's stream did. */
  private connectionLost = false;
  private httpStatus = 0;
  private grpcStatus: string | undefined;
  private grpcMessage = '';
  private done = false;
  private readonly onAbort = () => this.cancel(status.CANCELLED, 'Cancelled on client');

  constructor(
    private readonly maxMessageBytes: number,
    private readonly finish: (err: GrpcCallError | undefined, answer?: Buffer) => void,
  ) {}

  start(
    session: http2.ClientHttp2Session,
    path: string,
    request: Uint8Array,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): void {
    if (signal?.aborted) {
      this.settle(new GrpcCallError(status.CANCELLED, 'Cancelled on client'));
      return;
    }
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    };
    // grpc-timeout takes at most 8 digits; a longer wait (or none) is kept by the timer alone.
    if (timeoutMs <= 99_999_999) headers['grpc-timeout'] = `${Math.ceil(timeoutMs)}m`;
    const stream = session.request(headers);
    this.stream = stream;
    this.signal = signal;
    signal?.addEventListener('abort', this.onAbort, { once: true });
    // Node's timers hold at most 2^31-1 ms (longer ones fire at once): past that, no timer.
    if (timeoutMs <= MAX_TIMER_MS)
      this.timer = setTimeout(() => this.cancel(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), timeoutMs);
    stream.on('response', (headers) => this.onHeaders(headers));
    stream.on('trailers', (trailers) => this.onHeaders(trailers));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    // A connection that failed cancels its pending streams; the socket's own error is the cause.
    stream.on('error', (err: Error) => {
      if (
        (err as { code?: string }).code === 'ERR_HTTP2_STREAM_ERROR' &&
        stream.rstCode &&
        !session.destroyed &&
        !session.closed
      ) {
        this.settle(resetFailure(stream.rstCode));
        return;
      }
      const cause = (err as { cause?: unknown }).cause;
      this.settle(
        new GrpcCallError(status.UNAVAILABLE, cause instanceof Error ? cause.message : err.message),
      );
    });
    // A stream closed because the connection went is not a reset by the runtime (Node gives it CANCEL).
    stream.on('close', () => {
      const lost = session.destroyed || session.closed || goneAway.has(session);
      this.onClose(lost, lost ? 0 : stream.rstCode);
    });
    const frame = Buffer.allocUnsafe(5 + request.length);
    frame[0] = 0;
    frame.writeUInt32BE(request.length, 1);
    frame.set(request, 5);
    stream.end(frame);
  }

  private onHeaders(headers: http2.IncomingHttpHeaders): void {
    const http = headers[':status'];
    if (http !== undefined) this.httpStatus = Number(http);
    const code = headers['grpc-status'];
    if (code !== undefined) this.grpcStatus = String(code);
    const message = headers['grpc-message'];
    if (message !== undefined) this.grpcMessage = percentDecoded(String(message));
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    let at = 0;
    // The prefix: the compressed flag, then the message length, big-endian, split anywhere.
    for (; this.received < 5 && at < chunk.length; at++, this.received++) {
      const byte = chunk[at] as number;
      if (this.received === 0) this.compressedFlag = byte;
      else this.length = this.length * 256 + byte;
    }
    if (this.received < 5) return;
    // Refuse an oversized answer as soon as its length prefix is in, not after buffering it.
    if (this.message === undefined) {
      if (this.length > this.maxMessageBytes) {
        this.cancel(
          status.RESOURCE_EXHAUSTED,
          `Received message larger than max (${this.length} vs. ${this.maxMessageBytes})`,
        );
        return;
      }
      this.message = Buffer.allocUnsafeSlow(this.length);
    }
    const filled = this.received - 5;
    // A unary answer is one message: bytes past it are refused at once rather than buffered
    // (a runtime could otherwise stream without end into this call). grpc-go's words.
    if (filled + chunk.length - at > this.length) {
      this.cancel(
        status.INTERNAL,
        'cardinality violation: expected <EOF> for non server-streaming RPCs, but received another message',
      );
      return;
    }
    chunk.copy(this.message, filled, at);
    this.received += chunk.length - at;
  }

  private onClose(connectionLost: boolean, rstCode: number): void {
    this.connectionLost = connectionLost;
    // Reset by the runtime before its status came (our own cancel has settled already).
    if (rstCode && this.grpcStatus === undefined) {
      this.settle(resetFailure(rstCode));
      return;
    }
    const outcome = this.outcome();
    if (outcome instanceof GrpcCallError) this.settle(outcome);
    else this.settle(undefined, outcome);
  }

  /** The call's answer, or its failure, once the stream closed. */
  private outcome(): Buffer | GrpcCallError {
    if (this.grpcStatus === undefined)
      return this.connectionLost
        ? new GrpcCallError(status.UNAVAILABLE, 'Connection dropped')
        : statusless(this.httpStatus);
    const code = Number(this.grpcStatus);
    if (code !== 0)
      return new GrpcCallError(Number.isInteger(code) ? code : status.UNKNOWN, this.grpcMessage);
    if (this.received < 5) return new GrpcCallError(status.INTERNAL, 'No message received');
    if (this.compressedFlag !== 0)
      return new GrpcCallError(status.INTERNAL, 'Compressed message without grpc-encoding');
    if (this.received !== 5 + this.length)
      return new GrpcCallError(status.INTERNAL, 'Unary answer is not exactly one message');
    return this.message as Buffer;
  }

  private cancel(code: number, details: string): void {
    this.stream?.close(http2.constants.NGHTTP2_CANCEL);
    this.settle(new GrpcCallError(code, details));
  }

  private settle(err: GrpcCallError | undefined, answer?: Buffer): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    // A call that reached the old generation would otherwise hold these until a full collection.
    this.message = undefined;
    this.stream = undefined;
    this.signal = undefined;
    this.finish(err, answer);
  }
}

/** The failure of a stream that closed without a gRPC status, by its HTTP status (0: none came). */
function statusless(httpStatus: number): GrpcCallError {
  if (httpStatus === 0) return new GrpcCallError(status.UNAVAILABLE, 'Connection dropped');
  if (httpStatus === 200)
    return new GrpcCallError(status.INTERNAL, 'server closed the stream without sending trailers');
  return new GrpcCallError(
    CODE_OF_HTTP_STATUS[httpStatus] ?? status.UNKNOWN,
    `Received HTTP status code ${httpStatus}`,
  );
}

/** grpc-message is percent-encoded (gRPC's HTTP/2 protocol); a malformed one is kept as sent. */
function percentDecoded(message: string): string {
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}
