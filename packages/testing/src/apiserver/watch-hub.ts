import { ApiError } from './api-error';
import { EncodedObjects } from './encoded-objects';
import { type FieldSelector, matchesFields } from './field-selector';
import { type ApiResponse, abortResponse, responseGone, sendHeadersNow, writeBody } from './http-exchange';
import { type InitialEventsSent, streamInitialEvents } from './initial-events-stream';
import type { KubeObject } from './kube-object';
import { type LabelSelector, matchesLabels } from './label-selector';
import type { ObjectStore, StoredEvent } from './object-store';
import { encodeObjectMessage, encodeProtobufWatchEvent, watchEventFrame } from './protobuf-envelope';
import { PROTOBUF_WATCH_MEDIA_TYPE } from './protobuf-responses';
import { apiVersionOf, type ResourceType, resourceKey } from './resource-types';
import { tableFor } from './table-output';

export interface WatchRequest {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  labels: LabelSelector;
  fields: FieldSelector;
  /** Where the watch starts; "" or "0" (or unset): now. */
  resourceVersion?: string;
  /**
   * KEP-3157's watch-list (see watchSendInitialEvents): true sends the current state as ADDED
   * events first (and, with bookmarks allowed, a BOOKMARK annotated
   * `k8s.io/initial-events-end: "true"` after them); false starts at `resourceVersion` (or now)
   * with no initial state. Unset: a watch from `resourceVersion`, or, from "" or "0", the
   * pre-watch-list synthetic ADDED events without that bookmark.
   */
  sendInitialEvents?: boolean;
  allowBookmarks: boolean;
  timeoutSeconds: number;
  /** kubectl get -w asks for Table-wrapped objects (server-side printing). */
  asTable?: boolean;
  /** Length-prefixed protobuf WatchEvent frames instead of JSON lines (see wantsProtobuf). */
  protobuf?: boolean;
}

interface OpenWatch {
  res: ApiResponse;
  stalled: boolean;
  close(): void;
}

/** The annotation on the bookmark that ends a watch-list's initial events (metav1.InitialEventsAnnotationKey). */
const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/**
 * One event as its line of the stream (a Table for kubectl's watches, except bookmarks and
 * errors): `JSON.stringify({ type, object })`, with a stored object's JSON from `encoded`.
 */
function eventLine(
  req: WatchRequest,
  type: string,
  object: unknown,
  encoded: EncodedObjects,
): string | Buffer {
  if (req.protobuf) return eventFrame(req, type, object, encoded);
  if (type === 'BOOKMARK' || type === 'ERROR') return `${JSON.stringify({ type, object })}\n`;
  if (req.asTable)
    return `${JSON.stringify({ type, object: tableFor(req.rt.kind, [object as KubeObject], {}, new Date()) })}\n`;
  return `{"type":"${type}","object":${encoded.json(object as KubeObject)}}\n`;
}

/**
 * One event as its protobuf frame, a stored object's message from `encoded`; bookmarks and
 * errors (a Status) are encoded per watch, as their JSON is.
 */
function eventFrame(req: WatchRequest, type: string, object: unknown, encoded: EncodedObjects): Buffer {
  if (type === 'ERROR') return encodeProtobufWatchEvent(type, object as Record<string, unknown>);
  const apiVersion = apiVersionOf(req.rt);
  const message =
    type === 'BOOKMARK'
      ? encodeObjectMessage(object as Record<string, unknown>, apiVersion, req.rt.kind)
      : encoded.protobuf(object as KubeObject, apiVersion, req.rt.kind);
  return watchEventFrame(type, apiVersion, req.rt.kind, message);
}

/** How watch-list streams are served, switchable while the server runs. */
export interface WatchStreamSettings {
  /**
   * The WatchList feature gate (KEP-3157; ApiServerOptions.watchList): off, a watch naming
   * sendInitialEvents is a 422 and one from "" or "0" gets no end bookmark.
   */
  watchList: boolean;
  /**
   * Called with each watch's initial state once sent, or abandoned (events, bytes, writes, and
   * how often the server gave its event loop back while sending it).
   */
  onInitialEventsSent: ((sent: InitialEventsSent) => void) | undefined;
  /**
   * Objects encoded for watch events and protobuf reads so far: each once per format (JSON,
   * protobuf), however many watches send it.
   */
  readonly objectEncodes: number;
}

/**
 * Streams watch events as newline-delimited JSON (or protobuf frames), applying the real server's selector
 * transitions (an object leaving the selector is reported DELETED, entering it ADDED),
 * periodic bookmarks, and the server-side timeout that makes clients rotate watches.
 */
export class WatchHub implements WatchStreamSettings {
  private readonly open = new Set<OpenWatch>();
  private readonly encoded = new EncodedObjects();

  watchList = true;
  onInitialEventsSent: ((sent: InitialEventsSent) => void) | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly bookmarkIntervalMs: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  get objectEncodes(): number {
    return this.encoded.encodes + this.encoded.protobufEncodes;
  }

  /** The stored objects' encodings, shared by every watch and protobuf read. */
  get encodedObjects(): EncodedObjects {
    return this.encoded;
  }

  serve(req: WatchRequest, res: ApiResponse): void {
    const key = resourceKey(req.rt);
    const matches = (o: KubeObject | undefined): boolean =>
      o !== undefined &&
      (!req.rt.namespaced || req.namespace === undefined || o.metadata.namespace === req.namespace) &&
      (req.name === undefined || o.metadata.name === req.name) &&
      matchesLabels(req.labels, o.metadata.labels) &&
      matchesFields(req.fields, o);

    let backlog: StoredEvent[] | undefined = [];
    let initial: readonly KubeObject[] = [];
    const rv = req.resourceVersion;
    const fromNow = rv === undefined || rv === '' || rv === '0';
    if (!fromNow) {
      const n = Number(rv);
      if (!Number.isInteger(n) || n < 0) {
        throw new ApiError(400, 'BadRequest', `invalid resource version "${rv}"`);
      }
      // With sendInitialEvents the state sent is the current one, which is "not older than" rv.
      if (req.sendInitialEvents !== true) backlog = this.store.eventsSince(n);
    }
    // The snapshot is the stored objects' references in list order (nothing is encoded yet);
    // changes committed after it are queued until it has been sent.
    if (req.sendInitialEvents === true || (req.sendInitialEvents === undefined && fromNow))
      initial = this.store.list(key, req.rt.namespaced ? req.namespace : undefined);
    const snapshotRevision = this.store.resourceVersion;

    // No Transfer-Encoding: an HTTP/1.1 answer without a length is chunked by Node itself, and
    // HTTP/2 forbids the header (its frames delimit the body; the compat API throws on it).
    res.writeHead(200, {
      'Content-Type': req.protobuf ? PROTOBUF_WATCH_MEDIA_TYPE : 'application/json',
      'Cache-Control': 'no-cache, private',
    });
    sendHeadersNow(res);
    const watch: OpenWatch = { res, stalled: false, close: () => undefined };
    let closed = false;
    // Nothing more is written once the watch is closed or stalled, or its response has ended:
    // after the timeout ends it, changes may still arrive until its close event.
    const stopped = (): boolean => closed || watch.stalled || responseGone(res) || res.writableEnded;
    const send = (type: string, object: unknown): void => {
      if (!stopped()) writeBody(res, eventLine(req, type, object, this.encoded));
    };
    if (backlog === undefined) {
      // Too old: the real server answers 200 with a single ERROR event carrying 410.
      send(
        'ERROR',
        new ApiError(
          410,
          'Expired',
          `too old resource version: ${rv} (${this.store.oldestWatchableRevision})`,
        ).toStatus(),
      );
      res.end();
      return;
    }

    const deliver = (e: StoredEvent): void => {
      if (e.resource !== key) return;
      const now = matches(e.object);
      const before = e.type !== 'ADDED' && matches(e.oldObject);
      if (e.type === 'DELETED') {
        if (before) send('DELETED', e.object);
      } else if (now && before) send('MODIFIED', e.object);
      else if (now) send('ADDED', e.object);
      else if (before) send('DELETED', e.object);
    };
    // Until the initial state is out, changes wait here in commit order.
    let queued: StoredEvent[] | undefined = [...backlog];
    const unsubscribe = this.store.subscribe((e) => (queued ? queued.push(e) : deliver(e)));
    const bookmark = (): void => {
      if (req.allowBookmarks && !queued) {
        send('BOOKMARK', {
          kind: req.rt.kind,
          apiVersion: apiVersionOf(req.rt),
          metadata: { resourceVersion: String(this.store.resourceVersion) },
        });
      }
    };
    const bookmarkTimer = req.allowBookmarks ? setInterval(bookmark, this.bookmarkIntervalMs) : undefined;
    const timeout = setTimeout(() => {
      bookmark();
      res.end();
    }, req.timeoutSeconds * 1000);
    watch.close = () => {
      closed = true;
      unsubscribe();
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      clearTimeout(timeout);
      this.open.delete(watch);
    };
    res.on('close', watch.close);
    this.open.add(watch);

    void streamInitialEvents(
      res,
      initial,
      matches,
      (o) => eventLine(req, 'ADDED', o, this.encoded),
      stopped,
    ).then((sent) => {
      this.onInitialEventsSent?.(sent);
      const pending = queued ?? [];
      queued = undefined;
      if (stopped()) return;
      if (req.sendInitialEvents === true && req.allowBookmarks) {
        // The cacher's initial-events-end bookmark: the state above is complete as of this version.
        send('BOOKMARK', {
          kind: req.rt.kind,
          apiVersion: apiVersionOf(req.rt),
          metadata: {
            resourceVersion: String(snapshotRevision),
            annotations: { [INITIAL_EVENTS_END_ANNOTATION]: 'true' },
          },
        });
      }
      for (const e of pending) deliver(e);
    });
  }

  /** Cut every watch off as a dropped connection: its socket over HTTP/1.x, its stream alone over HTTP/2. */
  dropAll(): void {
    for (const w of [...this.open]) {
      w.close();
      abortResponse(w.res);
    }
  }

  stallAll(): void {
    for (const w of this.open) w.stalled = true;
  }

  /** End every watch cleanly (server shutdown). */
  endAll(): void {
    for (const w of [...this.open]) {
      w.close();
      w.res.end();
    }
  }
}
