import { createHash } from 'node:crypto';
import type { Agent, RequestOptions } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { isIP } from 'node:net';
import { type ConnectionOptions, connect as connectTls, type SecureContext, type TLSSocket } from 'node:tls';
import { IDLE_CONNECTION_TIMEOUT_MS } from './connection-options';
import { Http2Connection, type Http2Health } from './http2-connection';
import { tlsProxyOf } from './proxy-agent';
import { proxyTunnel } from './proxy-tunnel';
import { tlsMaterialOf } from './secure-context';

/** client-go's transport: a TLS handshake may take 10 s (TLSHandshakeTimeout). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * What the server may send before we read: Go's http2 transport asks for 4 MiB a stream and
 * 1 GiB the connection, so a large LIST is not held to HTTP/2's 64 KiB default window, a
 * round trip for every 64 KiB.
 */
const STREAM_WINDOW = 4 << 20;
const CONNECTION_WINDOW = 1 << 30;

/** An HTTP/2 connection, or `http/1.1` when the server chose it in the TLS handshake (ALPN). */
type Negotiated = Http2Connection | 'http/1.1';

/** A connection made, or being made, and the connection group it serves (separateConnections). */
interface Entry {
  made: Promise<Negotiated>;
  origin: string;
  group: string;
}

/** The connections by server, TLS material and group. */
const connections = new Map<string, Entry>();

/** Each kept HTTPS agent's TLS material as a digest, made once per agent (new material, new agent). */
const digests = new WeakMap<Agent, string>();

/** A whole number of seconds from the environment, as client-go reads its HTTP/2 settings. */
function secondsFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (!text) return fallback;
  const seconds = Number(text);
  if (Number.isInteger(seconds)) return seconds;
  process.emitWarning(`Illegal ${name}(${JSON.stringify(text)}). Default value ${fallback} is used`);
  return fallback;
}

/** The health check's settings: client-go's defaults and environment variables. */
function healthFromEnv(): Http2Health {
  return {
    readIdleMs: secondsFromEnv('HTTP2_READ_IDLE_TIMEOUT_SECONDS', 30) * 1000,
    pingTimeoutMs: secondsFromEnv('HTTP2_PING_TIMEOUT_SECONDS', 15) * 1000,
    idleMs: IDLE_CONNECTION_TIMEOUT_MS,
    now: () => performance.now(),
  };
}

function digest(material: readonly unknown[]): string {
  const hash = createHash('sha256');
  for (const part of material.flat())
    hash.update(`${typeof part}:${Buffer.isBuffer(part) ? part.toString('base64') : String(part)}\n`);
  return hash.digest('base64');
}

/** A connection's key: the server's origin and the digest of the kept agent's TLS material. */
function keyOf(url: URL, agent: Agent, options: RequestOptions): string {
  let material = digests.get(agent);
  if (material === undefined) {
    material = digest(tlsMaterialOf(options));
    digests.set(agent, material);
  }
  return `${url.origin} ${material}`;
}

/** The TLS options of a connection to `url` with the kept agent's context and the request's material. */
function tlsOptions(url: URL, agent: Agent, options: RequestOptions): ConnectionOptions {
  const o = options as RequestOptions & ConnectionOptions;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const secureContext = (agent as Agent & { options: { secureContext?: SecureContext } }).options
    .secureContext;
  return {
    host,
    port: Number(url.port || 443),
    servername: o.servername ?? (isIP(host) ? undefined : host),
    rejectUnauthorized: o.rejectUnauthorized,
    ...(secureContext
      ? { secureContext }
      : { ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase }),
    ALPNProtocols: ['h2', 'http/1.1'],
  };
}

/**
 * Connects and lets the server choose the protocol, as Go's transport does: HTTP/2 when it
 * answers `h2`; else the connection is closed and the server's HTTP/1.1 is remembered, so its
 * requests go through the kept agents from then on.
 */
function negotiate(url: URL, tls: ConnectionOptions, proxy: URL | undefined): Promise<Negotiated> {
  if (!proxy) return handshake(url, tls);
  // Through a proxy: the TLS handshake runs in a CONNECT tunnel (Go's transport does the same).
  return proxyTunnel(proxy, tls.host as string, tls.port as number, TLS_HANDSHAKE_TIMEOUT_MS).then((socket) =>
    handshake(url, { ...tls, socket }),
  );
}

/** The TLS handshake of `negotiate`, on a new TCP connection or on `tls.socket`. */
function handshake(url: URL, tls: ConnectionOptions): Promise<Negotiated> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connectTls(tls);
    socket.setTimeout(TLS_HANDSHAKE_TIMEOUT_MS, () =>
      socket.destroy(new Error('net/http: TLS handshake timeout')),
    );
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      socket.removeListener('error', reject);
      if (socket.alpnProtocol !== 'h2') {
        socket.destroy();
        resolve('http/1.1');
        return;
      }
      const session = connectHttp2(url.origin, {
        createConnection: () => socket,
        settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
      });
      session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW));
      resolve(new Http2Connection(session, socket, healthFromEnv()));
    });
  });
}

/** Forgets `entry` once its connection can take no more streams, so the next request makes another. */
function forgetWhenDone(key: string, entry: Entry, connection: Http2Connection): void {
  const forget = () => {
    if (connections.get(key) === entry) connections.delete(key);
  };
  connection.session.once('goaway', forget);
  connection.session.once('close', forget);
}

/**
 * The HTTP/2 connection for a request to `url` that applyConnectionOptions gave the kept HTTPS
 * agent `agent`, shared by every client with the same server and TLS material (client-go's
 * transport cache shares one among the kubelet's clients); undefined when the server speaks
 * HTTP/1.1 only, or when DISABLE_HTTP2 is set (client-go's switch). A group set with
 * separateConnections has connections of its own. A connection that cannot be
 * made rejects with the TLS or network error, and the next request tries again.
 */
export async function http2ConnectionFor(
  url: URL,
  agent: Agent,
  options: RequestOptions,
  /** The requests' connection group (separateConnections), '' for the process's shared one. */
  group = '',
): Promise<Http2Connection | undefined> {
  if (process.env.DISABLE_HTTP2) return undefined;
  const key = `${keyOf(url, agent, options)} ${group}`;
  const kept = connections.get(key);
  if (kept) {
    const negotiated = await kept.made;
    if (negotiated === 'http/1.1' || negotiated.usable)
      return negotiated === 'http/1.1' ? undefined : negotiated;
    if (connections.get(key) === kept) connections.delete(key);
    return http2ConnectionFor(url, agent, options, group);
  }
  const entry: Entry = {
    made: negotiate(url, tlsOptions(url, agent, options), tlsProxyOf(agent)),
    origin: url.origin,
    group,
  };
  connections.set(key, entry);
  let negotiated: Negotiated;
  try {
    negotiated = await entry.made;
  } catch (err) {
    if (connections.get(key) === entry) connections.delete(key);
    throw err;
  }
  if (negotiated === 'http/1.1') return undefined;
  forgetWhenDone(key, entry, negotiated);
  return negotiated.usable ? negotiated : http2ConnectionFor(url, agent, options, group);
}

/**
 * Closes every HTTP/2 connection to `origin` in connection group `group`, whatever its TLS
 * material, one still being made included (once made): their streams fail with `reason`, and
 * the next request makes a new connection, with a new TLS handshake. HTTP/1.1 verdicts stay.
 */
export function closeHttp2Connections(origin: string, group: string, reason: Error): void {
  for (const [key, entry] of connections) {
    if (entry.origin !== origin || entry.group !== group) continue;
    void entry.made.then(
      (negotiated) => {
        if (negotiated === 'http/1.1') return;
        if (connections.get(key) === entry) connections.delete(key);
        negotiated.destroy(reason);
      },
      () => undefined,
    );
  }
}
