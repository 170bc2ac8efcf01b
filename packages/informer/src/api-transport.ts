import { channel } from 'node:diagnostics_channel';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { type ClientHttp2Stream, constants, type OutgoingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { type ApiResponse, http1Response, http2Response } from './api-response';
import { connectionGroupOf } from './connection-groups';
import { applyConnectionOptions, type ConnectionPool } from './connection-options';
import type { Http2Connection } from './http2-connection';
import { http2ConnectionFor } from './http2-connections';
import { withDefaultUserAgent } from './user-agent';

/**
 * Where each HTTP/2 stream this package starts is published (`{ stream, headers, connection }`,
 * the connection being the TLS socket under it), as node:http publishes each HTTP/1.1 request
 * on `http.client.request.start`; Node 20 publishes nothing for HTTP/2.
 */
export const HTTP2_STREAM_CHANNEL = '@nodeagent/informer:http2.client.stream.start';
const streamStarts = channel(HTTP2_STREAM_CHANNEL);

/** One request to the API server. */
export interface ApiExchange {
  method: string;
  headers: Record<string, string>;
  payload?: Buffer;
  /**
   * Ends the request while its answer is still arriving (a watch's stop). Without one, a view's
   * own deadline applies (the kubelet's heartbeat client puts one on requests that have none).
   */
  signal?: AbortSignal;
  /** Which of the KubeConfig's kept HTTP/1.1 agents carries it when the server has no HTTP/2. */
  pool: ConnectionPool;
}

/** The error an aborted request ends with, as Node's own `signal` option makes it. */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}

/** Calls `abort` when `signal` fires (at once if it has), until `done` says the exchange is over. */
function onAbort(
  signal: AbortSignal | undefined,
  abort: () => void,
  done: (cleanup: () => void) => void,
): void {
  if (!signal) return;
  if (signal.aborted) {
    abort();
    return;
  }
  signal.addEventListener('abort', abort, { once: true });
  done(() => signal.removeEventListener('abort', abort));
}

/** Headers HTTP/2 forbids (connection-specific) or carries as pseudo-headers. */
const NOT_HTTP2 = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

function http2Headers(url: URL, options: RequestOptions): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':method': options.method, ':path': url.pathname + url.search };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const lower = name.toLowerCase();
    if (value !== undefined && !NOT_HTTP2.has(lower)) headers[lower] = value;
  }
  // Basic credentials: node:http turns `auth` into this header itself.
  if (options.auth && headers.authorization === undefined)
    headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  return headers;
}

/**
 * A request the server reset with REFUSED_STREAM before answering, or left above the last stream
 * of its GOAWAY: it was not processed, so it may be sent again, as Go's transport does.
 */
class RefusedStreamError extends Error {}

function sendHttp2(
  connection: Http2Connection,
  url: URL,
  options: RequestOptions,
  payload: Buffer | undefined,
  signal: AbortSignal | undefined,
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const headers = http2Headers(url, options);
    let stream: ClientHttp2Stream;
    try {
      stream = connection.request(headers, payload === undefined);
    } catch (err) {
      reject(err);
      return;
    }
    if (streamStarts.hasSubscribers) streamStarts.publish({ stream, headers, connection: connection.socket });
    onAbort(
      signal,
      () => {
        if (!stream.readableEnded) stream.destroy(abortError(signal!));
      },
      (cleanup) => stream.once('close', cleanup),
    );
    let answered = false;
    stream.once('response', (answer) => {
      answered = true;
      resolve(http2Response(answer, stream));
    });
    // Before the answer: the request failed; after it: the body's readers have their own listener.
    stream.on('error', (err) =>
      reject(
        !answered && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM
          ? new RefusedStreamError(err.message, { cause: err })
          : err,
      ),
    );
    if (payload !== undefined) stream.end(payload);
  });
}

function sendHttp1(
  url: URL,
  options: RequestOptions,
  payload: Buffer | undefined,
  signal: AbortSignal | undefined,
): Promise<ApiResponse> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    const req = send(url, options, (res) => {
      response = res;
      resolve(http1Response(res));
    });
    // The abort ends only a request still reading: once its answer is complete the kept
    // connection belongs to the agent (and maybe to the next request), which Node's own `signal`
    // option would destroy all the same when the signal fires later.
    onAbort(
      signal,
      () => {
        if (!response?.complete) req.destroy(abortError(signal!));
      },
      (cleanup) => req.on('close', cleanup),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Sends one request to `kubeConfig`'s API server and resolves with its answer as it starts
 * arriving. Credentials, TLS material and a proxy come from client-node's applyToHTTPSOptions.
 * Over HTTPS the request is a stream on the one HTTP/2 connection this process keeps to the
 * server for that TLS material, as client-go's requests are; when the server chooses HTTP/1.1
 * (or DISABLE_HTTP2 is set, or a proxy carries it) it goes through the KubeConfig's kept
 * keep-alive agent, as over plain HTTP.
 */
export async function sendApiRequest(
  kubeConfig: KubeConfig,
  url: URL,
  exchange: ApiExchange,
): Promise<ApiResponse> {
  const options: RequestOptions = { method: exchange.method, headers: exchange.headers };
  // The caller's signal stands in the options while the KubeConfig fills them, so that a view
  // that puts its deadline on requests without one leaves a list or watch alone; it comes out
  // before the request is sent, as the abort here is ours.
  if (exchange.signal) options.signal = exchange.signal;
  const agent = await applyConnectionOptions(kubeConfig, options, exchange.pool);
  const signal = options.signal ?? undefined;
  delete options.signal;
  withDefaultUserAgent(options.headers as Record<string, unknown>);
  const connect = () =>
    agent && url.protocol === 'https:'
      ? http2ConnectionFor(url, agent, options, connectionGroupOf(kubeConfig))
      : Promise.resolve(undefined);
  const connection = await connect();
  if (!connection) return sendHttp1(url, options, exchange.payload, signal);
  try {
    return await sendHttp2(connection, url, options, exchange.payload, signal);
  } catch (err) {
    if (!(err instanceof RefusedStreamError)) throw err;
    // Once more, on the connection the next request would take (a new one after a GOAWAY).
    const again = await connect();
    if (!again) return sendHttp1(url, options, exchange.payload, signal);
    return sendHttp2(again, url, options, exchange.payload, signal);
  }
}
