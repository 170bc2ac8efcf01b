import { type IncomingHttpHeaders, type IncomingMessage, STATUS_CODES } from 'node:http';
import type {
  ClientHttp2Stream,
  IncomingHttpHeaders as Http2Headers,
  IncomingHttpStatusHeader,
} from 'node:http2';
import type { Readable } from 'node:stream';

/**
 * An API server's answer as the readers need it, whichever protocol carried it: an HTTP/1.1
 * response (its IncomingMessage is the body) or an HTTP/2 stream (the stream is the body).
 */
export interface ApiResponse {
  statusCode: number;
  /** The status line's text; HTTP/2 has none, so Go's http.StatusText of the code, as client-go reads it. */
  statusMessage: string;
  headers: IncomingHttpHeaders;
  /** The body, as it arrives: 'data' and 'end', and 'close' when the exchange is over either way. */
  body: Readable;
  /** Whether the whole body arrived (false after 'close' when the stream was cut). */
  complete(): boolean;
}

/** An HTTP/1.1 answer. */
export function http1Response(res: IncomingMessage): ApiResponse {
  return {
    statusCode: res.statusCode ?? 0,
    statusMessage: res.statusMessage ?? '',
    headers: res.headers,
    body: res,
    complete: () => res.complete,
  };
}

/** An HTTP/2 answer: the response headers (`:status` among them) and the stream that carries the body. */
export function http2Response(
  headers: Http2Headers & IncomingHttpStatusHeader,
  stream: ClientHttp2Stream,
): ApiResponse {
  const statusCode = headers[':status'] ?? 0;
  return {
    statusCode,
    statusMessage: STATUS_CODES[statusCode] ?? '',
    headers: headers as IncomingHttpHeaders,
    body: stream,
    complete: () => stream.readableEnded,
  };
}

/**
 * Rejects when `body` fails or is cut before its end, with `cut(why)` for a cut: an HTTP/1.1
 * answer says so with 'aborted' or 'error', an HTTP/2 stream the server resets may only close.
 */
export function rejectWhenCut(
  body: Readable,
  reject: (err: Error) => void,
  cut: (why: string) => Error,
): void {
  body.on('error', reject);
  body.on('aborted', () => reject(cut('aborted')));
  body.on('close', () => {
    if (!body.readableEnded) reject(cut('closed before the end of the stream'));
  });
}
