import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { KubeConfig } from '@kubernetes/client-node';
import { InvalidOptionError } from '@nodeagent/primitives';
import { type ApiResponse, rejectWhenCut } from './api-response';
import { sendApiRequest } from './api-transport';
import { ApiStatusError, WatchDroppedError, WatchInactivityError } from './errors';
import { readFailedResponse } from './failed-response';
import type { InformerObject } from './informer-object';
import { LineReader } from './line-reader';
import { ListItemsReader } from './list-items-reader';
import type { ListerWatcher, ListOptions, ListPage, WatchEvent, WatchOptions } from './lister-watcher';
import {
  type DecodedList,
  decodeWatchEvent,
  FrameReader,
  type HeldObjects,
  isProtobufContentType,
  PROTOBUF_ACCEPT,
} from './protobuf';
import { ListStreamReader } from './protobuf/list-stream';
import type { DecodeFlags } from './protobuf/omit';
import { type ProtobufWireOptions, protobufFlagsFor, protobufStatusText } from './protobuf/wire-format';
import { RequestObservation, recordWatchResult } from './rest-client-metrics';

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

function statusError(res: ApiResponse, body: string): ApiStatusError {
  const r = readFailedResponse(res, body);
  return new ApiStatusError(r.code, r.reason, r.message, r.retryAfterSeconds);
}

/** Rejects with a WatchDroppedError when `body` is cut before its end, or with its error. */
function onCut(body: Readable, reject: (err: Error) => void): void {
  rejectWhenCut(body, reject, (why) => new WatchDroppedError(why));
}

/** A response's whole body as one Buffer (a protobuf list or error body: decoded from bytes, not text). */
function readBytes(body: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: Buffer) => chunks.push(c));
    body.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    onCut(body, reject);
  });
}

/**
 * A protobuf list body decoded as it arrives (ListStreamReader): each item through `each` as its
 * bytes are in, so the body is never held whole, as the JSON list's items are not.
 */
function readProtobufList<T>(
  res: Readable,
  flags: DecodeFlags,
  each: (item: T) => T,
  held: HeldObjects | undefined,
): Promise<DecodedList<T> & { bytes: number }> {
  return new Promise((resolve, reject) => {
    const reader = new ListStreamReader<T>(flags, each, held);
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      try {
        reader.push(chunk);
      } catch (err) {
        res.destroy();
        reject(err);
      }
    });
    res.on('end', () => {
      try {
        resolve({ ...reader.end(), bytes });
      } catch (err) {
        reject(err);
      }
    });
    onCut(res, reject);
  });
}

/**
 * A ListerWatcher over HTTP(S) that takes the server, TLS material and credentials from a
 * @kubernetes/client-node KubeConfig (kubeconfig file or in-cluster), so auth providers and
 * client certificates work as in every other client-node call.
 */
export class KubeListerWatcher<T extends InformerObject> implements ListerWatcher<T> {
  private readonly path: string;
  /** Set when protobuf was asked for: what its decoders leave out. */
  private readonly protobuf: DecodeFlags | undefined;
  private readonly accept: string;
  /** Its watches pass `sendInitialEvents` on, for the reflector's watch-list stream. */
  readonly supportsWatchList = true;

  constructor(
    private readonly kubeConfig: KubeConfig,
    ref: ResourceRef,
    /** `protobuf`: ask for protobuf (Services and EndpointSlices only); JSON answers are still read. Default: JSON. */
    options: { protobuf?: ProtobufWireOptions } = {},
  ) {
    this.path = collectionPath(ref);
    this.protobuf = options.protobuf ? protobufFlagsFor(ref, options.protobuf) : undefined;
    this.accept = this.protobuf ? PROTOBUF_ACCEPT : 'application/json';
  }

  /** The collection's URL on the current cluster's server, with the query's non-empty values. */
  private url(query: Record<string, string | undefined>): URL {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new InvalidOptionError('kubeConfig', 'current-context', 'has no cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + this.path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    return url;
  }

  /** The request for `url`, answered (its body still to read); `signal` ends it while it reads. */
  private open(url: URL, signal: AbortSignal): Promise<ApiResponse> {
    return sendApiRequest(this.kubeConfig, url, {
      method: 'GET',
      headers: { Accept: this.accept },
      signal,
      pool: 'streams',
    });
  }

  /**
   * The body as text, decoded chunk by chunk: collecting Buffers and concatenating them would
   * hold a LIST page twice more outside the heap (chunks and their concatenation, ~2.5 MB each
   * for 500 EndpointSlices) until a major GC, which after a start-up sync is seconds away.
   */
  private static readAll(body: Readable): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: string[] = [];
      body.setEncoding('utf8');
      body.on('data', (c: string) => chunks.push(c));
      body.on('end', () => resolve(chunks.join('')));
      onCut(body, reject);
    });
  }

  /** A failed response's typed error and body size: its Status read from protobuf or JSON, by its Content-Type. */
  private static async failure(res: ApiResponse): Promise<{ error: ApiStatusError; bytes: number }> {
    if (isProtobufContentType(res.headers['content-type'])) {
      const body = await readBytes(res.body);
      return { error: statusError(res, protobufStatusText(body)), bytes: body.length };
    }
    const body = await KubeListerWatcher.readAll(res.body);
    return { error: statusError(res, body), bytes: Buffer.byteLength(body) };
  }

  /**
   * A successful LIST's body read as it arrives: each item decoded alone and passed through
   * `each` at once (ListItemsReader), the rest of the body (its metadata) decoded at the end.
   * Read whole, a one-request list of 1M endpoints held its 250 MB of text twice (chunks and
   * their join) and every item as decoded, untransformed, until the last one was.
   */
  private static readItems<T>(
    res: Readable,
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
      onCut(res, reject);
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
      if (res.statusCode >= 300) {
        const failed = await KubeListerWatcher.failure(res);
        observation.read(failed.bytes);
        throw failed.error;
      }
      if (this.protobuf && isProtobufContentType(res.headers['content-type'])) {
        const read = await readProtobufList(
          res.body,
          this.protobuf,
          each ?? ((item: T) => item),
          options.held,
        );
        observation.read(read.bytes);
        return { ...read, rest: undefined };
      }
      const read = await KubeListerWatcher.readItems(res.body, each ?? ((item: T) => item));
      observation.read(read.bytes);
      return { ...read, metadata: undefined };
    });
    const rest = (read.metadata ? { metadata: read.metadata } : JSON.parse(read.rest!)) as {
      metadata?: { resourceVersion?: string; continue?: string };
    };
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

  /**
   * Decodes the protobuf watch frames `chunk` completes and hands each event over (an ADDED one
   * `held` has at its version as the held object); a frame that does not decode (or a handler
   * that throws) ends the watch through `fail`, as a bad JSON line does.
   */
  private pushFrames(
    frames: FrameReader,
    chunk: Buffer,
    onEvent: (event: WatchEvent<T>) => void,
    fail: (err: Error) => void,
    settled: () => boolean,
    held: HeldObjects | undefined,
  ): void {
    const flags = this.protobuf!;
    try {
      frames.push(chunk, (buf, start, end) => {
        if (settled()) return false;
        let event: WatchEvent<T>;
        try {
          event = decodeWatchEvent(buf, start, end, flags, held) as unknown as WatchEvent<T>;
        } catch (err) {
          fail(new WatchDroppedError(`undecodable watch event: ${(err as Error).message}`));
          return false;
        }
        onEvent(event);
        return true;
      });
    } catch (err) {
      fail(err as Error);
    }
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
            if (res.statusCode >= 300) {
              const failed = await KubeListerWatcher.failure(res).catch(() => ({
                error: statusError(res, ''),
              }));
              finish(failed.error);
              return;
            }
            arm(finish);
            const fail = (err: Error) => {
              finish(err);
              local.abort();
            };
            const body = res.body;
            if (this.protobuf && isProtobufContentType(res.headers['content-type'])) {
              const frames = new FrameReader();
              body.on('data', (chunk: Buffer) => {
                arm(finish);
                this.pushFrames(frames, chunk, onEvent, fail, () => settled, options.held);
              });
            } else {
              // Each event is decoded as its line completes: a watch-list stream of 44,000
              // Services holds one event's text at a time, never the whole stream.
              const lines = new LineReader();
              body.setEncoding('utf8');
              body.on('data', (chunk: string) => {
                arm(finish);
                lines.push(chunk, (line) => !settled && this.deliver(line, onEvent, fail));
              });
            }
            // A stream cut by our own stop ends the watch as the server's end does.
            const dropped = (err: Error) => finish(signal.aborted ? undefined : err);
            body.on('end', () => finish());
            body.on('aborted', () => dropped(new WatchDroppedError('aborted')));
            body.on('error', (err) => dropped(new WatchDroppedError(err.message)));
            body.on('close', () => {
              if (!res.complete()) dropped(new WatchDroppedError('closed before the end of the stream'));
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
