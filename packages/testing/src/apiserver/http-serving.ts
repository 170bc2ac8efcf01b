import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  Http2ServerRequest,
  type Http2Session,
  type ServerHttp2Session,
} from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ApiRequest, ApiResponse } from './http-exchange';

// The API server's listening socket and its connections: HTTP/1.1 over plain TCP, or over TLS
// HTTP/2 and HTTP/1.1 side by side (ALPN), as kube-apiserver serves its secure port; and how
// close() ends every connection, of either protocol, at once.

/** How the listener serves TLS; absent, plain HTTP/1.1 (kube-apiserver does no h2c). */
export interface ServingTls {
  cert: string;
  key: string;
  /** CA whose client certificates authenticate: asked for, not required (request-authentication.ts). */
  clientCA?: string;
  /** Offer h2 by ALPN beside http/1.1 (false: http/1.1 alone, as --disable-http2-serving). */
  http2: boolean;
  /** SETTINGS_MAX_CONCURRENT_STREAMS of each HTTP/2 connection. */
  maxConcurrentStreams: number;
}

/** A listening API server: its port, extra listeners, and shutdown. */
export interface HttpServing {
  readonly port: number;
  /** Answers the connections `listener` accepts as if they had come to `port`; closed with it. */
  serve(listener: NetServer): void;
  /** Closes the listeners and ends every connection: HTTP/1.x sockets, HTTP/2 sessions, upgrades. */
  close(): Promise<void>;
}

/** What the listener hands each request to. */
export interface HttpHandlers {
  /**
   * A request and its connection, one object per connection: the socket, for HTTP/2 the
   * session's TLS socket itself (not `session.socket`, a proxy that throws once the session has
   * let its socket go, when a 'close' listener would read the socket's counters).
   */
  request(req: ApiRequest, res: ApiResponse, connection: Socket): void;
  /** An HTTP/1.1 upgrade (exec, attach, port-forward, log WebSockets, SPDY): the socket is the handler's. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** How long an idle HTTP/1.x connection is kept for its next request. */
const KEEP_ALIVE_TIMEOUT_MS = 60_000;

/** Listens on 127.0.0.1:`port` (0: a free one) and serves with `handlers`. */
export async function startHttpServing(
  port: number,
  tls: ServingTls | undefined,
  handlers: HttpHandlers,
): Promise<HttpServing> {
  /** Upgraded connections: the HTTP server no longer tracks them, so close() ends them itself. */
  const upgraded = new Set<Duplex>();
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => undefined);
    handlers.upgrade(req, socket, head);
  };
  const { server, closeConnections } = listeningServer(tls, handlers.request);
  // HTTP/1.x connections only, the HTTP/1.1 fallback of an HTTP/2 server included (node:http's
  // connection handling reads it off this server). HTTP/2 sessions get no idle timeout: Node's
  // counts a quiet stream (a watch with no events) as idle, where Go's counts only stream-less time.
  (server as { keepAliveTimeout: number }).keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Upgrades are HTTP/1.1 only (client-go dials exec, attach, port-forward and WebSockets with
  // ALPN http/1.1): an HTTP/2 server's fallback connections emit them here as node:http's does.
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const listeners = servedListeners(server);
  return {
    port: (server.address() as AddressInfo).port,
    serve: listeners.serve,
    close: () =>
      new Promise<void>((resolve) => {
        listeners.closeAll();
        server.close(() => resolve());
        closeConnections();
        for (const socket of upgraded) socket.destroy();
      }),
  };
}

/** The server for `tls` (or plain HTTP), and how to end every connection it holds. */
function listeningServer(
  tls: ServingTls | undefined,
  handle: HttpHandlers['request'],
): { server: Server | Http2SecureServer; closeConnections(): void } {
  const onHttp1Request = (req: IncomingMessage, res: ServerResponse): void => handle(req, res, req.socket);
  if (!tls) {
    const server = createServer(onHttp1Request);
    return { server, closeConnections: () => server.closeAllConnections() };
  }
  // Client certificates are asked for, not required: verified ones authenticate.
  const credentials = {
    cert: tls.cert,
    key: tls.key,
    ...(tls.clientCA ? { ca: tls.clientCA, requestCert: true, rejectUnauthorized: false } : {}),
  };
  if (!tls.http2) {
    // ALPN still answers http/1.1, as Go's server with HTTP/2 off: a client offering h2 falls back.
    const server = createHttpsServer({ ...credentials, ALPNProtocols: ['http/1.1'] }, onHttp1Request);
    return { server, closeConnections: () => server.closeAllConnections() };
  }
  const server = createSecureServer({
    ...credentials,
    allowHTTP1: true,
    settings: { maxConcurrentStreams: tls.maxConcurrentStreams },
  });
  const connections = http2Connections(server);
  server.on('request', (req: ApiRequest, res: ApiResponse) => {
    if (!(req instanceof Http2ServerRequest)) {
      handle(req, res, req.socket);
      return;
    }
    const session = req.stream.session;
    // No session: the stream is gone already, and nothing can be answered on it.
    if (!session) return;
    // The session's TLS socket; its proxy, should the pairing below ever miss one.
    handle(req, res, connections.socketOf(session) ?? session.socket);
  });
  return { server, closeConnections: connections.closeAll };
}

/**
 * An HTTP/2-and-1.1 server's connections: each session's TLS socket, and closeAll for close()
 * (Http2SecureServer has no closeAllConnections). closeAll destroys the sessions (each open
 * stream, a watch's too, ends for its client as a dropped one), then the TLS sockets left, which
 * are the HTTP/1.1 fallback's.
 */
function http2Connections(server: Http2SecureServer): {
  socketOf(session: Http2Session): TLSSocket | undefined;
  closeAll(): void;
} {
  const sessions = new Set<ServerHttp2Session>();
  const sockets = new Set<TLSSocket>();
  const socketOfSession = new WeakMap<Http2Session, TLSSocket>();
  let created: ServerHttp2Session | undefined;
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    created = session;
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // node:http2's own 'secureConnection' listener, added before this one, has just made this
    // socket's session and emitted 'session' for it, synchronously; none for HTTP/1.1 sockets.
    if (created) socketOfSession.set(created, socket);
    created = undefined;
  });
  return {
    socketOf: (session) => socketOfSession.get(session),
    closeAll: () => {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Listeners handed to `serve`: their connections go to `server` as its own; closed with it. The
 * raw TCP socket is what a server's 'connection' listener takes, TLS ones included: tls.Server's
 * runs the handshake, then HTTP/2 or HTTP/1.1 by ALPN, as for a connection to the server's port.
 */
function servedListeners(server: NetServer): { serve(listener: NetServer): void; closeAll(): void } {
  const listeners = new Set<NetServer>();
  return {
    serve: (listener) => {
      listeners.add(listener);
      listener.on('connection', (socket: Socket) => server.emit('connection', socket));
    },
    closeAll: () => {
      for (const listener of listeners) listener.close();
    },
  };
}
