import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { nodeOfUserAgent } from './node-identity';
import { requestKind } from './request-kind';

/** One node's requests: by "VERB resource", and its watches open now. */
export interface NodeRequests {
  total: number;
  byKind: Map<string, number>;
  openWatches: number;
}

const CHANNEL = 'http.client.request.start';

/**
 * Counts the API requests of the hollow nodes named in `nodes`, read off node:http's
 * diagnostics channel: every request any of our clients sends (lists, watches, status and lease
 * writes, events) passes there, and the user agent says which node sent it. Counting at the
 * socket layer rather than inside the engines leaves them untouched and misses no client.
 */
export class RequestCounter {
  readonly perNode = new Map<string, NodeRequests>();
  private readonly listener = (message: unknown) =>
    this.onRequest((message as { request: ClientRequest }).request);

  constructor(nodes: readonly string[]) {
    for (const node of nodes) this.perNode.set(node, { total: 0, byKind: new Map(), openWatches: 0 });
  }

  start(): void {
    subscribe(CHANNEL, this.listener);
  }

  stop(): void {
    unsubscribe(CHANNEL, this.listener);
  }

  private onRequest(request: ClientRequest): void {
    const node = nodeOfUserAgent(String(request.getHeader('user-agent') ?? ''));
    const counts = node === undefined ? undefined : this.perNode.get(node);
    if (!counts) return;
    const kind = requestKind(request.method, request.path);
    const key = `${kind.verb} ${kind.resource}`;
    counts.total++;
    counts.byKind.set(key, (counts.byKind.get(key) ?? 0) + 1);
    if (kind.verb !== 'WATCH') return;
    counts.openWatches++;
    request.once('close', () => counts.openWatches--);
  }
}
