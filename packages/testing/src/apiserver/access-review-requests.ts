import { type AccessReviewSpec, type AccessReviews, API_AUDIENCES } from './access-reviews';
import { ApiError, badRequest, invalid } from './api-error';
import { invalidCause } from './field-errors';
import type { ApiRequest, ApiResponse } from './http-exchange';
import { readObject, sendJson } from './http-io';

// authentication.k8s.io/v1 tokenreviews and authorization.k8s.io/v1 subjectaccessreviews as
// kube-apiserver v1.36 serves them: cluster-scoped, create only (any other method is 405), the
// posted object echoed back 201 with its status filled (pkg/registry/authentication/tokenreview
// and pkg/registry/authorization/subjectaccessreview REST.Create). Nothing is stored.

/** The two review resources, as discovery lists them. */
export const REVIEW_RESOURCES = [
  { group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', kind: 'TokenReview' },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    plural: 'subjectaccessreviews',
    kind: 'SubjectAccessReview',
  },
] as const;

/** An APIResourceList for a review group's version, undefined for any other. */
export function reviewResourceList(group: string, version: string) {
  const found = REVIEW_RESOURCES.filter((r) => r.group === group && r.version === version);
  if (found.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${group}/${version}`,
    resources: found.map((r) => ({
      name: r.plural,
      singularName: r.kind.toLowerCase(),
      namespaced: false,
      kind: r.kind,
      verbs: ['create'],
    })),
  };
}

type Posted = { apiVersion?: unknown; kind?: unknown; metadata?: unknown; spec?: Record<string, unknown> };

/** The posted object's metadata, kind and apiVersion, checked as the decoder checks them. */
async function readReview(req: ApiRequest, apiVersion: string, kind: string): Promise<Posted> {
  const body = (await readObject(req)) as Posted | null;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest(`the body of the request was in an unknown format: expected a ${kind} object`);
  if (body.kind !== undefined && body.kind !== kind)
    throw badRequest(`${kind} in version "v1" cannot be handled as a ${String(body.kind)}`);
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion)
    throw badRequest(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  return body;
}

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.map((v) => String(v)) : undefined;

/** TokenReview: the token authenticated against the server's static tokens and API audiences. */
async function createTokenReview(reviews: AccessReviews, req: ApiRequest, res: ApiResponse) {
  const body = await readReview(req, 'authentication.k8s.io/v1', 'TokenReview');
  const token = typeof body.spec?.token === 'string' ? body.spec.token : '';
  if (token === '') throw badRequest('token is required for TokenReview in authentication');
  const audiences = strings(body.spec?.audiences) ?? [];
  const spec = { token, ...(audiences.length > 0 ? { audiences } : {}) };
  // An audience-agnostic token is valid for the API audiences only; outside them it is unknown.
  const valid = audiences.length === 0 ? API_AUDIENCES : API_AUDIENCES.filter((a) => audiences.includes(a));
  const user = valid.length > 0 ? reviews.userOfToken(token) : undefined;
  const status = user
    ? {
        authenticated: true,
        user: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups },
        audiences: valid,
      }
    : { user: {}, error: 'invalid bearer token' };
  sendJson(res, 201, {
    kind: 'TokenReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: {},
    spec,
    status,
  });
}

/** SubjectAccessReviewSpec read field by field (unknown fields dropped, as the typed decode does). */
function accessSpec(raw: Record<string, unknown> = {}): AccessReviewSpec {
  const spec: AccessReviewSpec = {};
  const attrs = raw.resourceAttributes as Record<string, unknown> | undefined;
  if (attrs && typeof attrs === 'object') {
    spec.resourceAttributes = {};
    for (const key of ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'] as const)
      if (typeof attrs[key] === 'string' && attrs[key] !== '') spec.resourceAttributes[key] = attrs[key];
  }
  const nonResource = raw.nonResourceAttributes as Record<string, unknown> | undefined;
  if (nonResource && typeof nonResource === 'object')
    spec.nonResourceAttributes = {
      ...(typeof nonResource.path === 'string' && nonResource.path ? { path: nonResource.path } : {}),
      ...(typeof nonResource.verb === 'string' && nonResource.verb ? { verb: nonResource.verb } : {}),
    };
  if (typeof raw.user === 'string' && raw.user !== '') spec.user = raw.user;
  const groups = strings(raw.groups);
  if (groups && groups.length > 0) spec.groups = groups;
  if (raw.extra && typeof raw.extra === 'object') spec.extra = raw.extra as Record<string, string[]>;
  if (typeof raw.uid === 'string' && raw.uid !== '') spec.uid = raw.uid;
  return spec;
}

/** ValidateSubjectAccessReviewSpec's three checks, as 422 Invalid. */
function validateAccessSpec(spec: AccessReviewSpec): void {
  const causes = [];
  if (spec.resourceAttributes && spec.nonResourceAttributes)
    causes.push(
      invalidCause(
        'spec.nonResourceAttributes',
        'object',
        'cannot be specified in combination with resourceAttributes',
      ),
    );
  if (!spec.resourceAttributes && !spec.nonResourceAttributes)
    causes.push(
      invalidCause(
        'spec.resourceAttributes',
        'null',
        'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ),
    );
  if (!spec.user && !spec.groups)
    causes.push(invalidCause('spec.user', '', 'at least one of user or group must be specified'));
  if (causes.length > 0) throw invalid('SubjectAccessReview', 'authorization.k8s.io', '', causes);
}

/** SubjectAccessReview: the spec checked, then the decision of system:masters and the grants. */
async function createSubjectAccessReview(reviews: AccessReviews, req: ApiRequest, res: ApiResponse) {
  const body = await readReview(req, 'authorization.k8s.io/v1', 'SubjectAccessReview');
  const spec = accessSpec(body.spec);
  validateAccessSpec(spec);
  const decision = reviews.authorize(spec);
  const status = { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) };
  sendJson(res, 201, {
    kind: 'SubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec,
    status,
  });
}

/**
 * Serves `pathname` when it is one of the two review collections (true), else leaves it (false).
 * Only POST is served; the resources have no get, list or watch.
 */
export async function serveAccessReview(
  reviews: AccessReviews,
  req: ApiRequest,
  res: ApiResponse,
  pathname: string,
): Promise<boolean> {
  const found = REVIEW_RESOURCES.find((r) => pathname === `/apis/${r.group}/${r.version}/${r.plural}`);
  if (!found) return false;
  if (req.method !== 'POST')
    throw new ApiError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
      {},
    );
  if (found.kind === 'TokenReview') await createTokenReview(reviews, req, res);
  else await createSubjectAccessReview(reviews, req, res);
  return true;
}
