import type { IncomingMessage } from 'node:http';
import { constants as http2Constants } from 'node:http2';
import type { Duplex } from 'node:stream';
import { serveAccessReview } from './access-review-requests';
import { ApiError, badRequest, methodNotAllowed } from './api-error';
import type { ApiRequestContext } from './api-request-context';
import { fixedEndpoint } from './fixed-endpoints';
import { type ApiRequest, type ApiResponse, abortResponse } from './http-exchange';
import { sendJson } from './http-io';
import { kubeletLocationForNode } from './kubelet-connection';
import { servePodLogWebSocket } from './pod-log-websocket';
import {
  isPodProxySubresource,
  serveKubeletGet,
  servePodStream,
  writeRawStatus,
} from './pod-proxy-subresources';
import { authenticateRequest } from './request-authentication';
import { parseResourcePath } from './request-path';
import { handleResource } from './resource-requests';

// Where each request goes: injected faults first, then authentication, the fixed endpoints,
// nodes/proxy, and resource paths; an error thrown on the way becomes a Status answer.

/**
 * Serves one HTTP/1.1 or HTTP/2 request; no error escapes (it is answered as a Status, or, once
 * its headers are out, the answer is cut off: the socket over HTTP/1.1, the stream alone with
 * INTERNAL_ERROR over HTTP/2, as Go's server resets a stream whose handler failed).
 */
export function serveRequest(ctx: ApiRequestContext, req: ApiRequest, res: ApiResponse): void {
  route(ctx, req, res).catch((err: unknown) => {
    if (res.headersSent) {
      abortResponse(res, http2Constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const apiErr = asApiError(err);
    sendJson(res, apiErr.code, apiErr.toStatus());
  });
}

/** Serves one upgrade request (pods/exec, attach, portforward, log over WebSocket); errors are written raw. */
export function serveUpgrade(
  ctx: ApiRequestContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  routeUpgrade(ctx, req, socket, head).catch((err: unknown) => writeRawStatus(socket, asApiError(err)));
}

function asApiError(err: unknown): ApiError {
  return err instanceof ApiError
    ? err
    : new ApiError(
        500,
        'InternalError',
        `Internal error occurred: ${(err as Error)?.message ?? String(err)}`,
      );
}

async function route(ctx: ApiRequestContext, req: ApiRequest, res: ApiResponse): Promise<void> {
  const u = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const p = u.pathname.replace(/\/+$/, '') || '/';
  const failure = ctx.faults.takeFailure(method, p);
  if (ctx.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, ctx.faults.latencyMs));
  if (failure) {
    sendInjectedFailure(res, failure);
    return;
  }
  const user = authenticateRequest(req, ctx.registry, ctx.now());
  ctx.audit?.(user, method, p);
  if (method === 'GET') {
    const fixed = fixedEndpoint(p, ctx.url());
    if (fixed !== undefined) {
      if (typeof fixed === 'string') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(fixed);
      } else sendJson(res, 200, fixed);
      return;
    }
  }
  // nodes/{name}/proxy/{path}: GETs passed to that node's kubelet (kubectl get --raw ...).
  const nodeProxy = /^\/api\/v1\/nodes\/([^/]+)\/proxy(\/.*)?$/.exec(u.pathname);
  if (nodeProxy) {
    if (method !== 'GET') throw methodNotAllowed('only GET is proxied to the kubelet');
    const location = kubeletLocationForNode(
      ctx.registry,
      decodeURIComponent(nodeProxy[1] as string),
      ctx.kubelet,
    );
    await serveKubeletGet(location, `${nodeProxy[2] ?? '/'}${u.search}`, ctx.kubelet, req, res);
    return;
  }
  if (await serveAccessReview(ctx.accessReviews, req, res, p)) return;
  const path = parseResourcePath(p);
  if (path === undefined || path === 'unknown') {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  await handleResource(ctx, req, res, path, u.searchParams, user);
}

/** The answer a FaultInjector rule asked for: its code as a Status, with Retry-After when it set one. */
function sendInjectedFailure(res: ApiResponse, failure: { code: number; retryAfterSeconds?: number }): void {
  const reason =
    failure.code === 429 ? 'TooManyRequests' : failure.code === 503 ? 'ServiceUnavailable' : 'InternalError';
  const err = new ApiError(
    failure.code,
    reason,
    `injected failure (${failure.code})`,
    failure.retryAfterSeconds === undefined ? undefined : { retryAfterSeconds: failure.retryAfterSeconds },
  );
  if (failure.retryAfterSeconds !== undefined)
    res.setHeader('Retry-After', String(failure.retryAfterSeconds));
  sendJson(res, failure.code, err.toStatus());
}

/** Upgrade requests: pods/exec, pods/attach and pods/portforward, proxied to the kubelet. */
async function routeUpgrade(
  ctx: ApiRequestContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const u = new URL(req.url ?? '/', 'http://localhost');
  const path = parseResourcePath(u.pathname.replace(/\/+$/, ''));
  if (path === undefined || path === 'unknown' || path.name === undefined) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  const { rt, namespace, name, subresource } = path;
  if (rt.kind !== 'Pod' || !isPodProxySubresource(subresource)) {
    throw badRequest(
      `upgrade requests are only served for pods/exec, pods/attach, pods/portforward and pods/log`,
    );
  }
  const pod = ctx.registry.get(rt, namespace, name);
  if (subresource === 'log') {
    await servePodLogWebSocket(ctx.registry, ctx.kubelet, pod, u.searchParams, req, socket);
    return;
  }
  ctx.podStreams.push(
    await servePodStream(ctx.registry, ctx.kubelet, pod, subresource, u.searchParams, req, socket, head),
  );
}
