import { randomBytes } from 'node:crypto';
import { badRequest, gone } from './api-error';
import type { EncodedObjects } from './encoded-objects';
import { parseFieldSelector } from './field-selector';
import type { ApiResponse } from './http-exchange';
import { intParam, sendJson } from './http-io';
import type { KubeObject } from './kube-object';
import { parseLabelSelector } from './label-selector';
import type { ObjectStore } from './object-store';
import { listEnvelope } from './protobuf-envelope';
import { sendProtobuf, wantsProtobuf } from './protobuf-responses';
import type { ResourcePath } from './request-path';
import type { ResourceRegistry } from './resource-registry';
import { apiVersionOf } from './resource-types';
import { tableFor, wantsTable } from './table-output';

/** How many paginated lists keep their snapshot; the oldest one's continue token then gets 410. */
const MAX_SNAPSHOTS = 64;

const CONTINUE_TOO_OLD =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** One list's items as of one resourceVersion, read page by page through continue tokens. */
interface ListSnapshot {
  rv: number;
  items: KubeObject[];
}

/** The decoded `continue` token: which snapshot, and where the next page starts. */
interface ContinueToken {
  id?: string;
  offset?: number;
}

/**
 * GET on a collection: the selected objects as a List (or a Table), in pages of `limit` with a
 * `continue` token. Every page of one list comes from the snapshot taken for its first page, as
 * etcd serves them from one revision.
 */
export class PaginatedLists {
  private readonly snapshots = new Map<string, ListSnapshot>();

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly store: ObjectStore,
    private readonly now: () => Date,
  ) {}

  /** Forgets every snapshot (compaction): their continue tokens get 410 Gone. */
  clear(): void {
    this.snapshots.clear();
  }

  /**
   * Answers one list request for `path` with the query `q`; a protobuf list's items come from
   * `encoded` (each object encoded once, shared with the watches).
   */
  serve(
    path: ResourcePath,
    q: URLSearchParams,
    accept: string,
    res: ApiResponse,
    encoded: EncodedObjects,
  ): void {
    const { rt } = path;
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), rt);
    const limit = intParam(q, 'limit');
    const cont = q.get('continue');
    const token = cont ? decodeContinue(cont) : undefined;
    const snap = cont
      ? this.continued(token as ContinueToken)
      : { rv: this.store.resourceVersion, items: this.registry.list(rt, path.namespace, labels, fields) };
    const offset = token?.offset ?? 0;
    const end = limit ? Math.min(offset + limit, snap.items.length) : snap.items.length;
    const items = snap.items.slice(offset, end);
    const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
    if (end < snap.items.length) {
      const id = token?.id || this.keep(snap);
      metadata.continue = Buffer.from(JSON.stringify({ id, offset: end, rv: snap.rv })).toString('base64url');
      metadata.remainingItemCount = snap.items.length - end;
    }
    if (wantsTable(accept)) {
      sendJson(res, 200, tableFor(rt.kind, items, metadata, this.now()));
      return;
    }
    const apiVersion = apiVersionOf(rt);
    if (wantsProtobuf(accept, rt)) {
      const messages = items.map((o) => encoded.protobuf(o, apiVersion, rt.kind));
      sendProtobuf(res, 200, listEnvelope(apiVersion, `${rt.kind}List`, metadata, messages));
      return;
    }
    sendJson(res, 200, { kind: `${rt.kind}List`, apiVersion, metadata, items });
  }

  /** The snapshot a continue token names, or 410 when it was dropped or compacted away. */
  private continued(token: ContinueToken): ListSnapshot {
    const found = this.snapshots.get(token.id ?? '');
    if (!found || found.rv < this.store.oldestWatchableRevision) throw gone(CONTINUE_TOO_OLD);
    return found;
  }

  /** Keeps `snap` for the next pages under a new id; bounded memory: the oldest one goes. */
  private keep(snap: ListSnapshot): string {
    const id = randomBytes(8).toString('hex');
    this.snapshots.set(id, snap);
    if (this.snapshots.size > MAX_SNAPSHOTS)
      this.snapshots.delete(this.snapshots.keys().next().value as string);
    return id;
  }
}

function decodeContinue(cont: string): ContinueToken {
  try {
    return JSON.parse(Buffer.from(cont, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion');
  }
}
