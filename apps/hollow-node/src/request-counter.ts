import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingHttpHeaders } from 'node:http';
import type { ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { HTTP2_STREAM_CHANNEL } from '@nodeagent/informer/connections';
import { nodeOfUserAgent } from './node-identity';
import { NodeSockets } from './node-sockets';
import { requestKind } from './request-kind';

/** One node's requests: by "VERB resource", its watches open now, and its connections (how many, their bytes). */
export interface NodeRequests {
  total: number;
  byKind: Map<string, number>;
  openWatches: number;
  sockets: NodeSockets;
}

/** A request as an API server in this process serves it (HTTP/1.1 or HTTP/2). */
export interface ServedRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
}

/** What an API server in this process reports of each request it serves (@nodeagent/testing's observeRequests). */
export interface ServedRequests {
  observeRequests(
    observer: (
      request: ServedRequest,
      response: { once(event: 'close', listener: () => void): unknown },
      connection: Socket,
    ) => void,
  ): () => void;
}

/**
 * Which end counts: `client` (the hollow process's own requests as they leave), or an API server
 * in this process, as the bench counts them where they arrive.
 */
export type CountingSide = 'client' | ServedRequests;

/** The parts of one request the counter reads, from either end. */
interface SeenRequest {
  method: string;
  path: string;
  userAgent: string;
  /** Calls back when the request (a watch: its stream) has ended. */
  onEnd(callback: () => void): void;
  /** Calls back with the connection the request goes over (once it has one). */
  onSocket(callback: (socket: Socket) => void): void;
}

function clientRequest({ request }: { request: ClientRequest }): SeenRequest {
  return {
    method: request.method,
    path: request.path,
    userAgent: String(request.getHeader('user-agent') ?? ''),
    onEnd: (callback) => request.once('close', callback),
    onSocket: (callback) => {
      // A kept connection may already be assigned; a new one comes with the 'socket' event.
      if (request.socket) callback(request.socket);
      request.once('socket', callback);
    },
  };
}

function servedRequest(
  request: ServedRequest,
  response: { once(event: 'close', listener: () => void): unknown },
  connection: Socket,
): SeenRequest {
  return {
    method: request.method ?? '',
    path: request.url ?? '',
    userAgent: request.headers['user-agent'] ?? '',
    onEnd: (callback) => response.once('close', callback),
    onSocket: (callback) => callback(connection),
  };
}

/** An HTTP/2 stream a client of ours started, as @nodeagent/informer publishes it. */
function clientStream({
  stream,
  headers,
  connection,
}: {
  stream: ClientHttp2Stream;
  headers: OutgoingHttpHeaders;
  connection: Socket;
}): SeenRequest {
  return {
    method: String(headers[':method'] ?? ''),
    path: String(headers[':path'] ?? ''),
    userAgent: String(headers['user-agent'] ?? ''),
    onEnd: (callback) => stream.once('close', callback),
    onSocket: (callback) => callback(connection),
  };
}

/** Where node:http publishes each HTTP/1.1 request a client of this process sends. */
const HTTP1_REQUEST_CHANNEL = 'http.client.request.start';

/**
 * Counts the API requests of the hollow nodes named in `nodes`, where they leave or where they
 * arrive, and the user agent says which node sent it:
 * - `client`: node:http's diagnostics channel (HTTP/1.1) and @nodeagent/informer's (HTTP/2
 *   streams): every request any of our clients sends (lists, watches, status and lease writes,
 *   events) passes one of them. Counting there rather than inside the engines leaves them
 *   untouched and misses no client.
 * - an API server in this process: each request it serves, over either protocol.
 * With `others`, every request without a hollow node's user agent counts for that name: the
 * bench's one real node, whose kubelet and kube-proxy send no node name in theirs.
 */
export class RequestCounter {
  readonly perNode = new Map<string, NodeRequests>();
  private readonly onHttp1 = (message: unknown) =>
    this.onRequest(clientRequest(message as Parameters<typeof clientRequest>[0]));
  private readonly onHttp2 = (message: unknown) =>
    this.onRequest(clientStream(message as Parameters<typeof clientStream>[0]));
  private stopObserving: (() => void) | undefined;

  constructor(
    nodes: readonly string[],
    private readonly side: CountingSide = 'client',
    private readonly others?: string,
  ) {
    for (const node of others === undefined ? nodes : [...nodes, others])
      this.perNode.set(node, { total: 0, byKind: new Map(), openWatches: 0, sockets: new NodeSockets() });
  }

  start(): void {
    if (this.side !== 'client') {
      this.stopObserving ??= this.side.observeRequests((request, response, connection) =>
        this.onRequest(servedRequest(request, response, connection)),
      );
      return;
    }
    subscribe(HTTP1_REQUEST_CHANNEL, this.onHttp1);
    subscribe(HTTP2_STREAM_CHANNEL, this.onHttp2);
  }

  stop(): void {
    this.stopObserving?.();
    this.stopObserving = undefined;
    if (this.side !== 'client') return;
    unsubscribe(HTTP1_REQUEST_CHANNEL, this.onHttp1);
    unsubscribe(HTTP2_STREAM_CHANNEL, this.onHttp2);
  }

  /** Starts a new window: the counts, bytes and connections opened go back to zero; open watches stay open. */
  resetCounts(): void {
    for (const counts of this.perNode.values()) {
      counts.total = 0;
      counts.byKind.clear();
      counts.sockets.reset();
    }
  }

  /** The requests of `nodes` so far, summed by "VERB resource" (a restart wave's before and after). */
  countsOf(nodes: Iterable<string>): Map<string, number> {
    const sums = new Map<string, number>();
    for (const node of nodes)
      for (const [kind, count] of this.perNode.get(node)?.byKind ?? [])
        sums.set(kind, (sums.get(kind) ?? 0) + count);
    return sums;
  }

  private onRequest(request: SeenRequest): void {
    const node = nodeOfUserAgent(request.userAgent) ?? this.others;
    const counts = node === undefined ? undefined : this.perNode.get(node);
    if (!counts) return;
    const kind = requestKind(request.method, request.path);
    const key = `${kind.verb} ${kind.resource}`;
    counts.total++;
    counts.byKind.set(key, (counts.byKind.get(key) ?? 0) + 1);
    request.onSocket((socket) => counts.sockets.track(socket));
    if (kind.verb !== 'WATCH') return;
    counts.openWatches++;
    request.onEnd(() => counts.openWatches--);
  }
}
