import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

// One request and its answer, over HTTP/1.1 (node:http) or HTTP/2 (node:http2's compatibility
// API), as kube-apiserver serves both on its TLS port. The handlers use what the two share; what
// differs (the connection, how an answer is cut off, whether it is gone) is answered here.

/** A request the API server serves, over HTTP/1.1 or HTTP/2. */
export type ApiRequest = IncomingMessage | Http2ServerRequest;

/** The answer to an ApiRequest. */
export type ApiResponse = ServerResponse | Http2ServerResponse;

/** Whether `res` answers on an HTTP/2 stream (else on an HTTP/1.x connection of its own). */
export function isHttp2Response(res: ApiResponse): res is Http2ServerResponse {
  return res instanceof Http2ServerResponse;
}

/**
 * The connection a request came on, to read its TLS state (a client certificate) while the
 * request is served: the socket for HTTP/1.x; for HTTP/2 its session's socket, a proxy that
 * reads through to the TLS socket while the session holds it (not the per-stream proxy
 * `req.socket` is there). Undefined for an HTTP/2 request whose stream is already gone.
 */
export function requestConnection(req: ApiRequest): Socket | undefined {
  return req instanceof Http2ServerRequest ? req.stream.session?.socket : req.socket;
}

/**
 * Whether nothing more can be written to `res`: its connection (HTTP/1.x) or its stream (HTTP/2)
 * is gone. Http2ServerResponse has no `destroyed` of its own (its types borrow Writable's), so
 * the stream is asked.
 */
export function responseGone(res: ApiResponse): boolean {
  if (isHttp2Response(res)) return res.stream.destroyed || res.stream.closed;
  return res.destroyed;
}

/**
 * Cuts `res` off before its end, as a dropped connection would: HTTP/1.x has nothing narrower
 * than its socket, so that is destroyed; on HTTP/2 only this request's stream is reset (with
 * `code`, CANCEL by default) and the session's other requests go on, as kube-apiserver ends one
 * watch. Not Http2ServerResponse.destroy(): it resets with NO_ERROR, which tells the client the
 * answer was complete (Node's client ends the stream as if it were; only rstCode tells).
 */
export function abortResponse(res: ApiResponse, code: number = constants.NGHTTP2_CANCEL): void {
  if (isHttp2Response(res)) {
    if (!res.stream.closed) res.stream.close(code);
    return;
  }
  res.destroy();
}

/**
 * Sends the status line and headers written by writeHead now, before any body (a watch's, a
 * streamed log's): HTTP/1.x holds them until the first write; HTTP/2's writeHead has sent them.
 */
export function sendHeadersNow(res: ApiResponse): void {
  if (!isHttp2Response(res)) res.flushHeaders();
}

/** Writes a piece of the body; false when the client reads slower than it is written (wait for 'drain'). */
export function writeBody(res: ApiResponse, chunk: string | Uint8Array): boolean {
  // Both are writable streams, but their own write overloads differ: the union's is not callable.
  const body: Writable = res;
  return body.write(chunk);
}
