import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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

/**
 * Which end counts: `client` (the hollow process's own requests as they leave) or `server` (an
 * API server in this process, as the bench counts them where they arrive).
 */
export type CountingSide = 'client' | 'server';

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

function serverRequest({
  request,
  response,
}: {
  request: IncomingMessage;
  response: ServerResponse;
}): SeenRequest {
  return {
    method: request.method ?? '',
    path: request.url ?? '',
    userAgent: request.headers['user-agent'] ?? '',
    onEnd: (callback) => response.once('close', callback),
    onSocket: (callback) => callback(request.socket),
  };
}

const CHANNELS = { client: 'http.client.request.start', server: 'http.server.request.start' } as const;

/**
 * Counts the API requests of the hollow nodes named in `nodes`, read off node:http's
 * diagnostics channel: every request any of our clients sends (lists, watches, status and lease
 * writes, events) passes there, and the user agent says which node sent it. Counting at the
 * socket layer rather than inside the engines leaves them untouched and misses no client.
 * With `others`, every request without a hollow node's user agent counts for that name: the
 * bench's one real node, whose kubelet and kube-proxy send no node name in theirs.
 */
export class RequestCounter {
  readonly perNode = new Map<string, NodeRequests>();
  private readonly listener = (message: unknown) =>
    this.onRequest(
      this.side === 'client'
        ? clientRequest(message as Parameters<typeof clientRequest>[0])
        : serverRequest(message as Parameters<typeof serverRequest>[0]),
    );

  constructor(
    nodes: readonly string[],
    private readonly side: CountingSide = 'client',
    private readonly others?: string,
  ) {
    for (const node of others === undefined ? nodes : [...nodes, others])
      this.perNode.set(node, { total: 0, byKind: new Map(), openWatches: 0, sockets: new NodeSockets() });
  }

  start(): void {
    subscribe(CHANNELS[this.side], this.listener);
  }

  stop(): void {
    unsubscribe(CHANNELS[this.side], this.listener);
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
