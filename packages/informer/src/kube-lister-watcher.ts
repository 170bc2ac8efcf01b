import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { SecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { InvalidOptionError } from '@nodeagent/primitives';
import { ApiStatusError, WatchDroppedError, WatchInactivityError } from './errors';
import { readFailedResponse } from './failed-response';
import type { InformerObject } from './informer-object';
import { LineReader } from './line-reader';
import { ListItemsReader } from './list-items-reader';
import type { ListerWatcher, ListOptions, ListPage, WatchEvent, WatchOptions } from './lister-watcher';
import { RequestObservation, recordWatchResult } from './rest-client-metrics';
import { sharedSecureContext } from './secure-context';
import { withDefaultUserAgent } from './user-agent';

/** Which collection to list and watch: group/version and plural, optionally one namespace. */
export interface ResourceRef {
  /** `v1`, `discovery.k8s.io/v1`, ... */
  apiVersion: string;
  /** Lower-case plural resource name: `pods`, `services`, `endpointslices`. */
  plural: string;
  /** Limit to one namespace; omit for all namespaces (or cluster-scoped resources). */
  namespace?: string;
}

/** The collection URL path of a resource, e.g. `/api/v1/namespaces/default/pods`. */
export function collectionPath(ref: ResourceRef): string {
  if (!/^[a-z0-9]+$/.test(ref.plural))
    throw new InvalidOptionError('plural', ref.plural, 'must be a lower-case resource name');
  const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  return `${base}${ns}/${ref.plural}`;
}

function statusError(res: IncomingMessage, body: string): ApiStatusError {
  const r = readFailedResponse(res, body);
  return new ApiStatusError(r.code, r.reason, r.message, r.retryAfterSeconds);
}

/**
 * A ListerWatcher over HTTP(S) that takes the server, TLS material and credentials from a
 * @kubernetes/client-node KubeConfig (kubeconfig file or in-cluster), so auth providers and
 * client certificates work as in every other client-node call.
 */
export class KubeListerWatcher<T extends InformerObject> implements ListerWatcher<T> {
  private readonly path: string;
  /** Its watches pass `sendInitialEvents` on, for the reflector's watch-list stream. */
  readonly supportsWatchList = true;

  constructor(
    private readonly kubeConfig: KubeConfig,
    ref: ResourceRef,
  ) {
    this.path = collectionPath(ref);
  }

  /** The collection's URL on the current cluster's server, with the query's non-empty values. */
  private url(query: Record<string, string | undefined>): URL {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new InvalidOptionError('kubeConfig', 'current-context', 'has no cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + this.path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    return url;
  }

  private async open(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    const options: RequestOptions = { method: 'GET', headers: { Accept: 'application/json' }, signal };
    // Credentials' headers, TLS material and the agent (TLS or proxy), the same call in client-node
    // 1.4 and 2.x. A connection of its own, not the kept keep-alive one of applyConnectionOptions:
    // a watch holds its connection for minutes and is ended by aborting its request, and an abort
    // on a kept agent's socket surfaced as an uncaught AbortError (the reflector tests' relists).
    await this.kubeConfig.applyToHTTPSOptions(options);
    withDefaultUserAgent(options.headers as Record<string, unknown>);
    const tls = url.protocol === 'https:';
    // Client-node's TLS agent (not a proxy's): the KubeConfig's one context, not one per watch.
    if (tls && options.agent?.constructor === HttpsAgent) {
      (options as RequestOptions & { secureContext?: SecureContext }).secureContext = sharedSecureContext(
        this.kubeConfig,
        options,
      );
    }
    const send = tls ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, options, resolve);
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * The body as text, decoded chunk by chunk: collecting Buffers and concatenating them would
   * hold a LIST page twice more outside the heap (chunks and their concatenation, ~2.5 MB each
   * for 500 EndpointSlices) until a major GC, which after a start-up sync is seconds away.
   */
  private static readAll(res: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (c: string) => chunks.push(c));
      res.on('end', () => resolve(chunks.join('')));
      res.on('error', reject);
      res.on('aborted', () => reject(new WatchDroppedError('aborted')));
    });
  }

  /**
   * A successful LIST's body read as it arrives: each item decoded alone and passed through
   * `each` at once (ListItemsReader), the rest of the body (its metadata) decoded at the end.
   * Read whole, a one-request list of 1M endpoints held its 250 MB of text twice (chunks and
   * their join) and every item as decoded, untransformed, until the last one was.
   */
  private static readItems<T>(
    res: IncomingMessage,
    each: (item: T) => T,
  ): Promise<{ items: T[]; rest: string; bytes: number }> {
    return new Promise((resolve, reject) => {
      const reader = new ListItemsReader();
      const decoder = new StringDecoder('utf8');
      const items: T[] = [];
      let bytes = 0;
      const onItem = (text: string) => items.push(each(JSON.parse(text) as T));
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        try {
          reader.push(decoder.write(chunk), onItem);
        } catch (err) {
          res.destroy();
          reject(err);
        }
      });
      res.on('end', () => {
        try {
          reader.push(decoder.end(), onItem);
          resolve({ items, rest: reader.end(), bytes });
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
      res.on('aborted', () => reject(new WatchDroppedError('aborted')));
    });
  }

  /**
   * One page of the collection (GET with limit/continue and the selectors), each item passed
   * through `each` as it is decoded (the page says so with `transformed`).
   */
  async list(options: ListOptions, signal: AbortSignal, each?: (item: T) => T): Promise<ListPage<T>> {
    const url = this.url({
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      limit: options.limit === undefined ? undefined : String(options.limit),
      continue: options.continue,
      resourceVersion: options.resourceVersion,
    });
    // A list is client-go's Do: counted, timed and sized (rest_client_*).
    const observation = new RequestObservation('GET', url);
    const read = await observation.around(0, async () => {
      const res = await this.open(url, signal);
      observation.answered(0, res.statusCode);
      if ((res.statusCode ?? 0) >= 300) {
        const body = await KubeListerWatcher.readAll(res);
        observation.read(Buffer.byteLength(body));
        throw statusError(res, body);
      }
      const read = await KubeListerWatcher.readItems(res, each ?? ((item: T) => item));
      observation.read(read.bytes);
      return read;
    });
    const rest = JSON.parse(read.rest) as { metadata?: { resourceVersion?: string; continue?: string } };
    const page: ListPage<T> = {
      items: read.items,
      resourceVersion: rest.metadata?.resourceVersion ?? '',
      ...(each ? { transformed: true } : {}),
    };
    if (rest.metadata?.continue) page.continue = rest.metadata.continue;
    return page;
  }

  /**
   * Decodes one line of the watch stream and hands the event over; false (after `fail`) when
   * the line is not JSON or the handler threw, which ends the watch.
   */
  private deliver(
    line: string,
    onEvent: (event: WatchEvent<T>) => void,
    fail: (err: Error) => void,
  ): boolean {
    if (!line.trim()) return true;
    let event: WatchEvent<T>;
    try {
      event = JSON.parse(line) as WatchEvent<T>;
    } catch {
      fail(new WatchDroppedError(`undecodable watch event: ${line.slice(0, 100)}`));
      return false;
    }
    try {
      onEvent(event);
    } catch (err) {
      fail(err as Error);
      return false;
    }
    return true;
  }

  /** A watch from `resourceVersion`, each event handed to `onEvent`, until the stream ends. */
  async watch(
    options: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const local = new AbortController();
    const onOuterAbort = () => local.abort(signal.reason);
    signal.addEventListener('abort', onOuterAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = (fail: (err: Error) => void) => {
      // Pushed back on every chunk (~1,000 for a 62 MB watch-list stream): one timer restarted,
      // not one cancelled and one made per chunk. Its callback is the same `fail` each time.
      if (timer) {
        timer.refresh();
        return;
      }
      timer = setTimeout(() => {
        fail(new WatchInactivityError(options.inactivityTimeoutMs));
        local.abort();
      }, options.inactivityTimeoutMs);
    };
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const finish = (err?: Error) => {
          if (settled) return;
          settled = true;
          if (err) reject(err);
          else resolve();
        };
        arm(finish);
        const url = this.url({
          watch: 'true',
          ...(options.sendInitialEvents
            ? { sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan' }
            : {}),
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          resourceVersion: options.resourceVersion,
          allowWatchBookmarks: options.allowWatchBookmarks ? 'true' : undefined,
          timeoutSeconds: String(options.timeoutSeconds),
        });
        this.open(url, local.signal).then(
          async (res) => {
            recordWatchResult(url, res.statusCode);
            if ((res.statusCode ?? 0) >= 300) {
              finish(statusError(res, await KubeListerWatcher.readAll(res).catch(() => '')));
              return;
            }
            arm(finish);
            // Each event is decoded as its line completes: a watch-list stream of 44,000
            // Services holds one event's text at a time, never the whole stream.
            const lines = new LineReader();
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              arm(finish);
              lines.push(
                chunk,
                (line) =>
                  !settled &&
                  this.deliver(line, onEvent, (err) => {
                    finish(err);
                    local.abort();
                  }),
              );
            });
            res.on('end', () => finish());
            res.on('aborted', () => finish(new WatchDroppedError('aborted')));
            res.on('error', (err) => finish(new WatchDroppedError(err.message)));
            res.on('close', () => {
              if (!res.complete) finish(new WatchDroppedError('closed before the end of the stream'));
            });
          },
          (err: Error) => {
            // Our own stop is no failed request; client-go counts other failures as `<error>`.
            if (!signal.aborted) recordWatchResult(url, undefined);
            finish(signal.aborted ? undefined : err);
          },
        );
      });
    } finally {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onOuterAbort);
      local.abort();
    }
  }
}
