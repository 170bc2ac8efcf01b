import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src';

// TokenReview and SubjectAccessReview on the in-process API server, as kube-apiserver v1.36
// answers them (create only, the object echoed 201 with status filled, nothing stored).

let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer({ certificates: false });
  api.accessReviews.addToken('t-monitor', { username: 'monitor', groups: ['monitoring'] });
  api.accessReviews.grant({
    name: 'node-pods',
    subjects: [{ kind: 'User', name: 'monitor' }],
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['nodes/pods'] }],
  });
  api.accessReviews.grant({
    name: 'logs-anywhere',
    subjects: [{ kind: 'Group', name: 'monitoring' }],
    rules: [
      { verbs: ['*'], apiGroups: ['*'], resources: ['*/log'] },
      { verbs: ['get'], nonResourceURLs: ['/healthz*'] },
    ],
  });
  api.accessReviews.grant({
    name: 'ns-secrets',
    namespace: 'team',
    subjects: [{ kind: 'User', name: 'monitor' }],
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['one'] }],
  });
});

afterAll(() => api?.close());

/** The fields of the answers these tests read. */
interface Answer {
  message?: string;
  spec?: unknown;
  status?: { allowed?: boolean; reason?: string };
  groups?: { name: string }[];
  resources?: { name: string }[];
}

async function post(path: string, body: unknown, method = 'POST'): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

const tokenReviews = '/apis/authentication.k8s.io/v1/tokenreviews';
const accessReviews = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

function review(spec: Record<string, unknown>) {
  return post(accessReviews, { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
}

describe('TokenReview', () => {
  it('authenticates a configured token: its user, system:authenticated added, the API audiences', async () => {
    const got = await post(tokenReviews, { kind: 'TokenReview', spec: { token: 't-monitor' } });
    expect(got).toEqual({
      status: 201,
      body: {
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: {},
        spec: { token: 't-monitor' },
        status: {
          authenticated: true,
          user: { username: 'monitor', groups: ['monitoring', 'system:authenticated'] },
          audiences: ['https://kubernetes.default.svc.cluster.local'],
        },
      },
    });
  });

  it('answers an unknown token, or one asked for another audience, unauthenticated with no user', async () => {
    for (const spec of [{ token: 'forged' }, { token: 't-monitor', audiences: ['https://elsewhere'] }]) {
      const got = await post(tokenReviews, { spec });
      expect(got.status).toBe(201);
      expect(got.body.status).toEqual({ user: {}, error: 'invalid bearer token' });
    }
  });

  it('refuses an empty token 400 and any method but create 405, as the create-only REST storage', async () => {
    const empty = await post(tokenReviews, { spec: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.message).toBe('token is required for TokenReview in authentication');
    const list = await post(tokenReviews, undefined, 'GET');
    expect(list).toMatchObject({ status: 405, body: { reason: 'MethodNotAllowed', details: {} } });
  });
});

describe('SubjectAccessReview', () => {
  const node = { verb: 'get', resource: 'nodes', name: 'node-a' };

  it('allows what a grant covers, with RBAC reason, and only that', async () => {
    const pods = await review({ user: 'monitor', resourceAttributes: { ...node, subresource: 'pods' } });
    expect(pods.status).toBe(201);
    expect(pods.body.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "node-pods" of ClusterRole "node-pods" to User "monitor"',
    });
    expect(pods.body.spec).toEqual({ resourceAttributes: { ...node, subresource: 'pods' }, user: 'monitor' });
    const proxy = await review({ user: 'monitor', resourceAttributes: { ...node, subresource: 'proxy' } });
    expect(proxy.body.status).toEqual({ allowed: false });
    const create = await review({
      user: 'monitor',
      resourceAttributes: { ...node, verb: 'create', subresource: 'pods' },
    });
    expect(create.body.status).toEqual({ allowed: false });
  });

  it("matches groups, */subresource, non-resource URL prefixes, a Role's namespace and resourceNames", async () => {
    const log = await review({
      user: 'x',
      groups: ['monitoring'],
      resourceAttributes: { ...node, subresource: 'log' },
    });
    expect(log.body.status?.reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "logs-anywhere" of ClusterRole "logs-anywhere" to Group "monitoring"',
    );
    const url = await review({
      user: 'x',
      groups: ['monitoring'],
      nonResourceAttributes: { path: '/healthz/ping', verb: 'get' },
    });
    expect(url.body.status?.allowed).toBe(true);
    const secret = { verb: 'get', resource: 'secrets', name: 'one' };
    const inTeam = await review({ user: 'monitor', resourceAttributes: { ...secret, namespace: 'team' } });
    expect(inTeam.body.status?.reason).toBe(
      'RBAC: allowed by RoleBinding "ns-secrets/team" of Role "ns-secrets" to User "monitor"',
    );
    const elsewhere = await review({
      user: 'monitor',
      resourceAttributes: { ...secret, namespace: 'other' },
    });
    expect(elsewhere.body.status?.allowed).toBe(false);
    const other = await review({
      user: 'monitor',
      resourceAttributes: { ...secret, name: 'two', namespace: 'team' },
    });
    expect(other.body.status?.allowed).toBe(false);
  });

  it('allows system:masters everything with no reason, and keeps what it was asked', async () => {
    api.accessReviews.asked.length = 0;
    const got = await review({
      user: 'root',
      groups: ['system:masters'],
      resourceAttributes: { verb: 'delete', resource: 'nodes' },
    });
    expect(got.body.status).toEqual({ allowed: true });
    expect(api.accessReviews.asked).toEqual([
      { user: 'root', groups: ['system:masters'], resourceAttributes: { verb: 'delete', resource: 'nodes' } },
    ]);
  });

  it("refuses a spec without attributes or subject 422 with ValidateSubjectAccessReviewSpec's fields", async () => {
    const got = await review({});
    expect(got.status).toBe(422);
    expect(got.body.message).toBe(
      'SubjectAccessReview.authorization.k8s.io "" is invalid: [spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified, spec.user: Invalid value: "": at least one of user or group must be specified]',
    );
  });
});

describe('discovery', () => {
  it('lists both review resources, cluster-scoped and create only, in their groups', async () => {
    const groups = (await post('/apis', undefined, 'GET')).body.groups?.map((g) => g.name);
    expect(groups).toEqual(expect.arrayContaining(['authentication.k8s.io', 'authorization.k8s.io']));
    const authn = await post('/apis/authentication.k8s.io/v1', undefined, 'GET');
    expect(authn.body.resources).toEqual([
      {
        name: 'tokenreviews',
        singularName: 'tokenreview',
        namespaced: false,
        kind: 'TokenReview',
        verbs: ['create'],
      },
    ]);
    const authz = await post('/apis/authorization.k8s.io/v1', undefined, 'GET');
    expect(authz.body.resources?.map((r) => r.name)).toEqual(['subjectaccessreviews']);
  });
});
