import { badRequest, methodNotAllowed } from './api-error';
import type { ApiRequestContext } from './api-request-context';
import { prepareDeletion, propagationPolicyOf } from './deletion-propagation';
import type { ApiRequest, ApiResponse } from './http-exchange';
import { intParam, parseJson, readBody, readObject, sendJson } from './http-io';
import { cascadeNamespace } from './namespace-cascade';
import { isPodProxySubresource, servePodLog } from './pod-proxy-subresources';
import { envelope } from './protobuf-envelope';
import { sendProtobuf, wantsProtobuf } from './protobuf-responses';
import type { ResourcePath } from './request-path';
import type { DeleteOptions, WriteOptions } from './resource-registry';
import { apiVersionOf } from './resource-types';
import { serveScale } from './scale-subresource';
import { tableFor, wantsTable } from './table-output';
import { watchSendInitialEvents } from './watch-list-options';

/** A resource path that names one object. */
export type ObjectPath = ResourcePath & { name: string };

const NOT_ALLOWED = 'the server does not allow this method on the requested resource';

/** One named object: its subresources that are not plain reads and writes, else the verb on it. */
export async function serveObject(
  ctx: ApiRequestContext,
  req: ApiRequest,
  res: ApiResponse,
  path: ObjectPath,
  q: URLSearchParams,
  writeOpts: WriteOptions,
): Promise<void> {
  if (await serveActionSubresource(ctx, req, res, path, q)) return;
  const { rt, namespace, name, subresource } = path;
  const warnings = writeOpts.warnings;
  switch (req.method ?? 'GET') {
    case 'GET':
      serveGet(ctx, req, res, path, q);
      return;
    case 'PUT':
      sendJson(
        res,
        200,
        ctx.registry.update(rt, namespace, name, await readObject(req), subresource, writeOpts),
        warnings,
      );
      return;
    case 'PATCH': {
      const type = String(req.headers['content-type'] ?? '');
      const body = await readBody(req);
      const existed = ctx.registry.find(rt, namespace, name) !== undefined;
      const out = ctx.registry.patch(rt, namespace, name, type, body, subresource, writeOpts);
      sendJson(res, existed ? 200 : 201, out, warnings);
      return;
    }
    case 'DELETE':
      await serveDelete(ctx, req, res, path, q, writeOpts);
      return;
    default:
      throw methodNotAllowed(NOT_ALLOWED);
  }
}

/**
 * The subresources that act rather than read or write the object: the pod proxies (log; exec,
 * attach and portforward need an upgrade), scale, binding, eviction and token. False when `path`
 * is none of them.
 */
async function serveActionSubresource(
  ctx: ApiRequestContext,
  req: ApiRequest,
  res: ApiResponse,
  path: ObjectPath,
  q: URLSearchParams,
): Promise<boolean> {
  const method = req.method ?? 'GET';
  const { rt, namespace, name, subresource } = path;
  if (rt.kind === 'Pod' && isPodProxySubresource(subresource)) {
    const pod = ctx.registry.get(rt, namespace, name);
    if (subresource === 'log' && method === 'GET') {
      await servePodLog(ctx.registry, ctx.kubelet, pod, q, req, res);
      return true;
    }
    if (subresource === 'log') throw methodNotAllowed(NOT_ALLOWED);
    // exec, attach and portforward only run over an upgraded connection (see serveUpgrade).
    throw badRequest('Upgrade request required');
  }
  if (subresource === 'scale') {
    const contentType = String(req.headers['content-type'] ?? '');
    const body = method === 'GET' ? '' : await readBody(req);
    sendJson(res, 200, serveScale(ctx.registry, rt, namespace, name, method, contentType, body));
    return true;
  }
  if (subresource === 'binding' || subresource === 'eviction' || subresource === 'token') {
    if (method !== 'POST') throw methodNotAllowed(NOT_ALLOWED);
    const body = parseJson(await readBody(req));
    if (subresource === 'token') {
      sendJson(res, 201, ctx.registry.createToken(rt, namespace as string, name, body));
      return true;
    }
    if (subresource === 'binding') ctx.registry.bind(rt, namespace as string, name, body);
    else {
      const grace = (body as { deleteOptions?: { gracePeriodSeconds?: number } } | null)?.deleteOptions
        ?.gracePeriodSeconds;
      ctx.registry.delete(rt, namespace, name, grace === undefined ? {} : { gracePeriodSeconds: grace });
    }
    sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    return true;
  }
  return false;
}

/** GET on one object: the object (or a one-row Table), or an old-style watch of it by URL name. */
function serveGet(
  ctx: ApiRequestContext,
  req: ApiRequest,
  res: ApiResponse,
  path: ObjectPath,
  q: URLSearchParams,
): void {
  const { rt, namespace, name } = path;
  const accept = String(req.headers.accept ?? '');
  const protobuf = wantsProtobuf(accept, rt);
  const watch = q.get('watch');
  if (watch === 'true' || watch === '1') {
    // Watching a single object by URL name (old style) is a watch with a name filter.
    const sendInitialEvents = watchSendInitialEvents(q, ctx.watches.watchList);
    ctx.watches.serve(
      {
        rt,
        name,
        labels: [],
        fields: [],
        allowBookmarks: q.get('allowWatchBookmarks') === 'true',
        timeoutSeconds: intParam(q, 'timeoutSeconds') ?? ctx.defaultWatchTimeoutSeconds,
        asTable: wantsTable(accept),
        protobuf,
        ...(sendInitialEvents !== undefined ? { sendInitialEvents } : {}),
        ...(namespace !== undefined ? { namespace } : {}),
        ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion') as string } : {}),
      },
      res,
    );
    return;
  }
  const obj = ctx.registry.get(rt, namespace, name);
  if (protobuf) {
    const apiVersion = apiVersionOf(rt);
    sendProtobuf(
      res,
      200,
      envelope(apiVersion, rt.kind, ctx.watches.encodedObjects.protobuf(obj, apiVersion, rt.kind)),
    );
  } else if (wantsTable(accept))
    sendJson(
      res,
      200,
      tableFor(rt.kind, [obj], { resourceVersion: obj.metadata.resourceVersion }, ctx.now()),
    );
  else sendJson(res, 200, obj);
}

/** The delete options a DELETE body carries, besides the propagation policy read on its own. */
interface DeleteBody {
  gracePeriodSeconds?: number;
  preconditions?: DeleteOptions['preconditions'];
  propagationPolicy?: unknown;
  orphanDependents?: unknown;
}

/** DELETE on one object: its DeleteOptions from the body and query, cascading a namespace's contents. */
async function serveDelete(
  ctx: ApiRequestContext,
  req: ApiRequest,
  res: ApiResponse,
  path: ObjectPath,
  q: URLSearchParams,
  writeOpts: WriteOptions,
): Promise<void> {
  const { rt, namespace, name } = path;
  const text = await readBody(req);
  const opts: DeleteOptions = {};
  let deleteBody: DeleteBody | undefined;
  if (text.trim()) {
    const body = parseJson(text) as DeleteBody;
    if (body?.gracePeriodSeconds !== undefined) opts.gracePeriodSeconds = body.gracePeriodSeconds;
    if (body?.preconditions) opts.preconditions = body.preconditions;
    deleteBody = body ?? undefined;
  }
  const g = intParam(q, 'gracePeriodSeconds');
  if (g !== undefined) opts.gracePeriodSeconds = g;
  if (writeOpts.dryRun) opts.dryRun = true;
  // Foreground and Orphan need the garbage collector (controlPlane); without it every
  // delete is what it always was here: the object goes, dependents stay.
  const policy = propagationPolicyOf(q.get('propagationPolicy'), deleteBody);
  if (policy && ctx.garbageCollectorRunning() && !opts.dryRun)
    prepareDeletion(ctx.registry, rt, namespace, name, policy);
  const out = ctx.registry.delete(rt, namespace, name, opts);
  if (rt.kind === 'Namespace' && !ctx.registry.find(rt, undefined, name))
    cascadeNamespace(ctx.registry, ctx.store, name);
  // Graceful deletion answers 202-less 200 with the object; immediate deletion too.
  sendJson(res, 200, out);
}
