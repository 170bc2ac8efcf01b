import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { KubeletError } from '../errors';

/** A streaming URL the kubelet cannot proxy to (not plain http). */
export class StreamingProxyError extends KubeletError {
  constructor(field: string, value: unknown, reason: string) {
    super('STREAMING_PROXY', field, value, reason);
  }
}

/** Headers that only concern the hop from the client, not the runtime's streaming server. */
const dropped = new Set(['host', 'authorization', 'proxy-authorization', 'content-length']);

/** Writes a complete HTTP/1.1 response on a socket that was handed over for an upgrade, then closes it. */
export function writeRawResponse(
  socket: Duplex,
  code: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed) return;
  const text = Buffer.from(body);
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\n` +
      extra.join('') +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${text.length}\r\n` +
      'Connection: close\r\n\r\n' +
      text.toString('latin1'),
    'latin1',
  );
}

/** Opens a byte stream to host:port; the default is TCP. Tests reach a runtime inside a network namespace with their own. */
export type StreamConnector = (host: string, port: number) => Duplex;

const tcpConnector: StreamConnector = (host, port) => connect({ host, port });

/**
 * Proxies an upgrade request (SPDY/3.1 or WebSocket) to `target` byte for byte, the way
 * upstream's kubelet proxies to the runtime's streaming server instead of redirecting: the
 * request line is rewritten to the target path (keeping the client's query when the target has
 * none), the upgrade headers and subprotocols pass unchanged, and whatever the server answers —
 * 101 and the stream, or an error — goes back to the client as is.
 */
export function proxyUpgrade(
  request: IncomingMessage,
  client: Duplex,
  head: Buffer,
  target: string,
  clientQuery: string,
  connector: StreamConnector = tcpConnector,
): void {
  const url = new URL(target);
  if (url.protocol !== 'http:' && url.protocol !== 'ws:')
    throw new StreamingProxyError('streamingURL', target, 'only http streaming URLs are proxied');
  const path = `${url.pathname}${url.search || clientQuery}`;
  const lines = [`${request.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${url.host}`];
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!dropped.has((raw[i] as string).toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  const upstream = connector(url.hostname, Number(url.port || 80));
  let answered = false;
  upstream.once('data', () => {
    answered = true;
  });
  upstream.on('error', (error) => {
    // Before the server said anything the client can still get a proper HTTP answer.
    if (!answered) writeRawResponse(client, 502, `error dialing the streaming server: ${error.message}\n`);
    else client.destroy();
  });
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
  // End (not destroy) so the last bytes the server sent still reach the client.
  upstream.on('close', () => {
    if (!client.destroyed && !client.writableEnded) client.end();
  });
  // Writes queue until the connection is up.
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  if (head.length > 0) upstream.write(head);
  upstream.pipe(client);
  client.pipe(upstream);
}
