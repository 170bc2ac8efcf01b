import type { ServerResponse } from 'node:http';
import { ApiError } from './api-error';
import { type FieldSelector, matchesFields } from './field-selector';
import type { KubeObject } from './kube-object';
import { type LabelSelector, matchesLabels } from './label-selector';
import type { ObjectStore, StoredEvent } from './object-store';
import { apiVersionOf, type ResourceType, resourceKey } from './resource-types';
import { tableFor } from './table-output';

export interface WatchRequest {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  labels: LabelSelector;
  fields: FieldSelector;
  /** undefined, "" or "0": start with synthetic ADDED events for the current state. */
  resourceVersion?: string;
  allowBookmarks: boolean;
  timeoutSeconds: number;
  /** kubectl get -w asks for Table-wrapped objects (server-side printing). */
  asTable?: boolean;
}

interface OpenWatch {
  res: ServerResponse;
  stalled: boolean;
  close(): void;
}

/**
 * Streams watch events as newline-delimited JSON, applying the real server's selector
 * transitions (an object leaving the selector is reported DELETED, entering it ADDED),
 * periodic bookmarks, and the server-side timeout that makes clients rotate watches.
 */
export class WatchHub {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly store: ObjectStore,
    private readonly bookmarkIntervalMs: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  serve(req: WatchRequest, res: ServerResponse): void {
    const key = resourceKey(req.rt);
    const matches = (o: KubeObject | undefined): boolean =>
      o !== undefined &&
      (!req.rt.namespaced || req.namespace === undefined || o.metadata.namespace === req.namespace) &&
      (req.name === undefined || o.metadata.name === req.name) &&
      matchesLabels(req.labels, o.metadata.labels) &&
      matchesFields(req.fields, o);

    let backlog: StoredEvent[] | undefined;
    let initial: KubeObject[] = [];
    const rv = req.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0') {
      initial = this.store.list(key, req.rt.namespaced ? req.namespace : undefined).filter(matches);
      backlog = [];
    } else {
      const n = Number(rv);
      if (!Number.isInteger(n) || n < 0) {
        throw new ApiError(400, 'BadRequest', `invalid resource version "${rv}"`);
      }
      backlog = this.store.eventsSince(n);
    }

    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const watch: OpenWatch = { res, stalled: false, close: () => undefined };
    const send = (type: string, object: unknown): void => {
      if (watch.stalled || res.destroyed) return;
      const wrapped =
        req.asTable && type !== 'BOOKMARK' && type !== 'ERROR'
          ? tableFor(req.rt.kind, [object as KubeObject], {}, new Date())
          : object;
      res.write(`${JSON.stringify({ type, object: wrapped })}\n`);
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
    for (const o of initial) send('ADDED', o);
    for (const e of backlog) deliver(e);
    const unsubscribe = this.store.subscribe(deliver);
    const bookmark = (): void => {
      if (req.allowBookmarks) {
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
      unsubscribe();
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      clearTimeout(timeout);
      this.open.delete(watch);
    };
    res.on('close', watch.close);
    this.open.add(watch);
  }

  dropAll(): void {
    for (const w of [...this.open]) {
      w.close();
      w.res.destroy();
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
