import type { KubeConfig } from '@kubernetes/client-node';
import { InvalidOptionError } from '@nodeagent/primitives';
import { type ApiResponse, rejectWhenCut } from './api-response';
import { sendApiRequest } from './api-transport';
import { ApiStatusError } from './errors';
import { readFailedResponse } from './failed-response';
import { RequestObservation } from './rest-client-metrics';

/** One API call: a path under the current cluster's server, a query, a JSON body. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `/api/v1/nodes/node-1`, `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases`. */
  path: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON (Dates as their toISOString(), as client-node's serializer writes them). */
  body?: unknown;
  /** Content-Type of the body; `application/json` unless a patch strategy says otherwise. */
  contentType?: string;
}

/**
 * An API call the server answered with a failure status. `code` is the HTTP status and `body`
 * the response text, as on client-node's ApiException, so code written against the typed API
 * classes (`err.code === 404`, the Status `reason` read from `err.body`) reads it the same way.
 */
export class ApiRequestError extends ApiStatusError {
  constructor(
    code: number,
    reason: string,
    message: string,
    /** The response body (a metav1.Status as JSON, usually). */
    readonly body: string,
    retryAfterSeconds?: number,
  ) {
    super(code, reason, message, retryAfterSeconds);
    this.name = 'ApiRequestError';
  }
}

function failure(res: ApiResponse, body: string): ApiRequestError {
  const r = readFailedResponse(res, body);
  return new ApiRequestError(r.code, r.reason, r.message, body, r.retryAfterSeconds);
}

/** The whole body of `res`, telling `observation` its size. */
function readBody(res: ApiResponse, observation: RequestObservation): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.body.on('data', (c: Buffer) => chunks.push(c));
    res.body.on('end', () => {
      const body = Buffer.concat(chunks);
      observation.read(body.length);
      resolve(body.toString('utf8'));
    });
    rejectWhenCut(res.body, reject, (why) => new Error(`the answer was ${why}`));
  });
}

/**
 * Sends one request to the API server of `kubeConfig`'s current context and returns the decoded
 * JSON answer. Server, TLS material, credentials and auth providers come from client-node's
 * `applyToHTTPSOptions` (in client-node 1.4 and 2.x alike); the answer is the plain JSON the
 * server sent (timestamps stay strings), without client-node's generated model layer, whose
 * type table alone keeps ~2,500 model classes in memory. A status >= 300 throws ApiRequestError.
 */
export async function apiRequest<T>(kubeConfig: KubeConfig, req: ApiRequest): Promise<T> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new InvalidOptionError('kubeConfig', 'current-context', 'has no cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + req.path);
  for (const [k, v] of Object.entries(req.query ?? {}))
    if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { Accept: 'application/json' };
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  if (payload) {
    headers['Content-Type'] = req.contentType ?? 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  // client-go's rest_client_* observations of this request (a no-op with no metrics connected).
  const observation = new RequestObservation(req.method, url);
  const { res, text } = await observation.around(payload?.length ?? 0, async () => {
    const res = await sendApiRequest(kubeConfig, url, {
      method: req.method,
      headers,
      payload,
      pool: 'requests',
    });
    observation.answered(payload?.length ?? 0, res.statusCode);
    return { res, text: await readBody(res, observation) };
  });
  if (res.statusCode >= 300) throw failure(res, text);
  return (text ? JSON.parse(text) : undefined) as T;
}
