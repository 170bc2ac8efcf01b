import { ApiError, methodNotAllowed } from './api-error';
import type { ApiRequestContext } from './api-request-context';
import { CSR_KIND, prepareCsrForCreate } from './csr-strategy';
import { parseFieldSelector } from './field-selector';
import type { ApiRequest, ApiResponse } from './http-exchange';
import { intParam, readObject, sendJson } from './http-io';
import type { KubeObject } from './kube-object';
import { parseLabelSelector } from './label-selector';
import { serveObject } from './object-requests';
import { sendProtobufStatus, wantsProtobuf } from './protobuf-responses';
import type { UserInfo } from './request-authentication';
import type { ResourcePath } from './request-path';
import type { WriteOptions } from './resource-registry';
import { apiVersionOf } from './resource-types';
import { wantsTable } from './table-output';
import { watchSendInitialEvents } from './watch-list-options';

/**
 * A request on a resource path (`/api/v1/namespaces/x/pods[/name[/sub]]`): reads the write
 * options every verb shares, then serves the collection (no name) or the named object.
 */
export async function handleResource(
  ctx: ApiRequestContext,
  req: ApiRequest,
  res: ApiResponse,
  path: ResourcePath,
  q: URLSearchParams,
  user: UserInfo,
): Promise<void> {
  const warnings: string[] = [];
  const writeOpts: WriteOptions = { warnings };
  const fv = q.get('fieldValidation');
  if (fv === 'Strict' || fv === 'Warn' || fv === 'Ignore') writeOpts.fieldValidation = fv;
  if (q.get('dryRun') === 'All') writeOpts.dryRun = true;
  if (path.subresource && !path.rt.subresources.includes(path.subresource)) {
    throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
  }
  try {
    if (path.name === undefined) await serveCollection(ctx, req, res, path, q, user, writeOpts);
    else await serveObject(ctx, req, res, { ...path, name: path.name }, q, writeOpts);
  } catch (err) {
    // A failed protobuf read (GET, LIST, WATCH) is answered with a protobuf Status, as the
    // real server encodes errors in the negotiated type; writes keep answering JSON here.
    const read = (req.method ?? 'GET') === 'GET' && path.subresource === undefined;
    if (!(err instanceof ApiError) || res.headersSent || !read) throw err;
    if (!wantsProtobuf(String(req.headers.accept ?? ''), path.rt)) throw err;
    sendProtobufStatus(res, err);
  }
}

/** A collection: GET lists or watches, POST creates, DELETE deletes what the selectors pick. */
async function serveCollection(
  ctx: ApiRequestContext,
  req: ApiRequest,
  res: ApiResponse,
  path: ResourcePath,
  q: URLSearchParams,
  user: UserInfo,
  writeOpts: WriteOptions,
): Promise<void> {
  const method = req.method ?? 'GET';
  const { rt, namespace } = path;
  const accept = String(req.headers.accept ?? '');
  if (method === 'GET') {
    const watch = q.get('watch');
    if (watch === 'true' || watch === '1') {
      const labels = parseLabelSelector(q.get('labelSelector'));
      const fields = parseFieldSelector(q.get('fieldSelector'), rt);
      const sendInitialEvents = watchSendInitialEvents(q, ctx.watches.watchList);
      ctx.watches.serve(
        {
          rt,
          labels,
          fields,
          allowBookmarks: q.get('allowWatchBookmarks') === 'true',
          timeoutSeconds: intParam(q, 'timeoutSeconds') ?? ctx.defaultWatchTimeoutSeconds,
          asTable: wantsTable(accept),
          protobuf: wantsProtobuf(accept, rt),
          ...(sendInitialEvents !== undefined ? { sendInitialEvents } : {}),
          ...(namespace !== undefined ? { namespace } : {}),
          ...(q.get('resourceVersion') !== null
            ? { resourceVersion: q.get('resourceVersion') as string }
            : {}),
        },
        res,
      );
      return;
    }
    ctx.lists.serve(path, q, accept, res, ctx.watches.encodedObjects);
    return;
  }
  if (method === 'POST') {
    let body = await readObject(req);
    if (rt.kind === CSR_KIND && body !== null && typeof body === 'object')
      body = prepareCsrForCreate(body as KubeObject, user);
    const created = ctx.registry.create(rt, namespace, body, writeOpts);
    sendJson(res, 201, created, writeOpts.warnings);
    return;
  }
  if (method === 'DELETE') {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), rt);
    const items = ctx.registry.list(rt, namespace, labels, fields);
    const deleted = items.map((o) =>
      ctx.registry.delete(rt, o.metadata.namespace, o.metadata.name as string, {}),
    );
    sendJson(res, 200, {
      kind: `${rt.kind}List`,
      apiVersion: apiVersionOf(rt),
      metadata: { resourceVersion: String(ctx.store.resourceVersion) },
      items: deleted,
    });
    return;
  }
  throw methodNotAllowed(`the server does not allow this method on the requested resource`);
}
