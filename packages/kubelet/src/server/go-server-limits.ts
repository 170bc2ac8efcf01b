import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

// upstream's kubelet http.Server (pkg/kubelet/server/server.go ListenAndServeKubeletServer):
// IdleTimeout 90 s, ReadTimeout and WriteTimeout 4 h, MaxHeaderBytes 1 MiB, no
// ReadHeaderTimeout (so the headers share ReadTimeout), no body limit at that level. Node's
// defaults differ (16 KiB of headers, 60 s for them, 5 min per request, 5 s keep-alive), and
// its refusals too; these carry Go's values and answers over.

/** The http.Server limits, in milliseconds and bytes. */
export interface GoServerLimits {
  /** ReadTimeout: the request line, headers and body must arrive within it. */
  readTimeoutMs: number;
  /** WriteTimeout: a response still being written this long after its request is cut. */
  writeTimeoutMs: number;
  /** IdleTimeout: a kept-alive connection with no new request is closed after it. */
  idleTimeoutMs: number;
  /** MaxHeaderBytes; Go reads up to 4096 bytes more before refusing (initialReadLimitSize). */
  maxHeaderBytes: number;
  /** How often Node looks for connections past their timeouts (Node's default is 30 s). */
  checkIntervalMs: number;
}

export const upstreamServerLimits: Readonly<GoServerLimits> = Object.freeze({
  readTimeoutMs: 4 * 60 * 60_000,
  writeTimeoutMs: 4 * 60 * 60_000,
  idleTimeoutMs: 90_000,
  maxHeaderBytes: 1 << 20,
  checkIntervalMs: 30_000,
});

/** The node:http server options that carry `limits` (headers share the read timeout, as in Go). */
export function goServerOptions(limits: GoServerLimits): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes + 4096,
    requestTimeout: limits.readTimeoutMs,
    headersTimeout: limits.readTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  };
}

/** net/http's errorHeaders, written after the status line of a refusal it answers itself. */
const errorHeaders = '\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n';

/**
 * What net/http's conn.serve writes for a request it could not read: headers over the limit
 * `HTTP/1.0 431 …`, a read deadline passed nothing at all (the connection is just closed), any
 * other parse failure `HTTP/1.1 400 Bad Request`.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const version = error.code === 'HPE_HEADER_OVERFLOW' ? 'HTTP/1.0' : 'HTTP/1.1';
  socket.end(`${version} ${status}${errorHeaders}${status}`);
}

/** Applies `limits` to a created server: Go's refusals, and WriteTimeout for each response. */
export function applyGoServerLimits(
  server: Server,
  limits: GoServerLimits,
): (request: IncomingMessage, response: ServerResponse) => void {
  server.on('clientError', answerClientError);
  return (_request, response) => {
    // Go's write deadline: set once the headers are read, it ends the connection when passed.
    const timer = setTimeout(() => response.destroy(), limits.writeTimeoutMs);
    timer.unref();
    response.on('close', () => clearTimeout(timer));
  };
}
