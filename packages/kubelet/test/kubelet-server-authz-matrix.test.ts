import { request as httpsRequest } from 'node:https';
import { authenticationV1Requests, authorizationV1Requests } from '@nodeagent/informer';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criDebugRuntime } from '../src/server/debug-runtime';
import { createKubeletServer, listen, type RunningServer } from '../src/server/kubelet-server';
import { kubeletAuthenticator, subjectAccessReviewAuthorizer } from '../src/server/server-auth';
import { criStreamingRuntime } from '../src/server/streaming-runtime';
import { selfSignedCertificate } from '../src/server/tls-material';
import { CriSummaryProvider } from '../src/stats/summary-provider';
import { type ClientCertificate, clientCertificate } from './helpers/client-certificate';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

// The kubelet's door as a matrix: every path × eleven identities over TLS, authenticated by x509
// client certificates and TokenReview, authorized by SubjectAccessReview, both answered by the
// in-process API server (its static tokens and RBAC-like grants; upstream's secure settings:
// anonymous off, webhook authentication and authorization). The expected refusals are
// read from upstream v1.36: pkg/kubelet/server/auth.go nodeAuthorizerAttributesGetter.
// GetRequestAttributes (KubeletFineGrainedAuthz, GA: pods, healthz, configz, statusz or, for
// /runningpods/, pods tried before the path's stats / metrics / log / checkpoint / proxy) and
// server.go InstallAuthFilter (401 `Unauthorized`; 403 `Forbidden (…, subresource(s)=[…])` once
// every subresource was refused; a path no handler is registered for is the mux's 404, before it).

/** upstream's GetRequestAttributes, written out: the subresources a path is authorized as, in order. */
function upstreamSubresources(path: string): string[] {
  const under = (base: string) => {
    const root = base.replace(/\/$/, '');
    return path === root || path.startsWith(`${root}/`);
  };
  const fine = [
    ['/pods', 'pods'],
    ['/healthz', 'healthz'],
    ['/configz', 'configz'],
    ['/statusz', 'statusz'],
    ['/runningpods/', 'pods'],
  ].find(([base]) => under(base as string))?.[1];
  const broad =
    [
      ['/stats/', 'stats'],
      ['/metrics', 'metrics'],
      ['/logs/', 'log'],
      ['/checkpoint/', 'checkpoint'],
    ].find(([base]) => under(base as string))?.[1] ?? 'proxy';
  return fine ? [fine, broad] : [broad];
}

const verbs: Record<string, string> = { GET: 'get', POST: 'create', PUT: 'update', HEAD: '' };

/**
 * Each path, its method and what an admitted caller gets from this server. Where upstream's
 * admitted answer differs, the comment says so (those paths are not served here yet).
 */
const paths: [method: string, path: string, admitted: number][] = [
  ['GET', '/healthz', 200],
  ['GET', '/pods', 200],
  ['GET', '/runningpods/', 200],
  ['GET', '/configz', 200],
  ['GET', '/metrics', 200],
  ['GET', '/metrics/cadvisor', 200],
  ['GET', '/metrics/resource', 200],
  ['GET', '/metrics/probes', 200],
  ['GET', '/stats/summary', 200],
  ['GET', '/containerLogs/default/web/app', 200],
  // Not upgraded: upstream's upgrade-aware proxy answers 500 `Upgrade request required`.
  ['POST', '/exec/default/web/app?command=true&output=1', 500],
  ['POST', '/attach/default/web/app?output=1', 500],
  ['POST', '/portForward/default/web?port=80', 500],
  ['POST', '/run/default/nope/app?cmd=true', 404],
  // The fake runtime refuses CheckpointContainer as containerd 1.6 does: 500.
  ['POST', '/checkpoint/default/web/app', 500],
  ['PUT', '/debug/flags/v', 200],
  ['GET', '/healthz/ping', 200],
  // enableSystemLogHandler's file server: the listing of the system log directory.
  ['GET', '/logs/', 200],
  // Upstream v1.36 serves Go's pprof index; here 501 once admitted (no Go profiles in Node).
  ['GET', '/debug/pprof/', 501],
  // Registered nowhere (the zpages gates ComponentStatusz and ComponentFlagz are off by default
  // in v1.36, /spec is long gone): Go's mux answers 404 before the auth filter runs.
  ['GET', '/statusz', 404],
  ['GET', '/flagz', 404],
  ['GET', '/spec/', 404],
  ['GET', '/healthz/nope', 404],
  ['GET', '/nope', 404],
];

const unregistered = new Set(['/statusz', '/flagz', '/spec/', '/healthz/nope', '/nope']);

interface Identity {
  label: string;
  token?: string;
  cert?: boolean;
  /** nodes subresources it holds; 'all' for system:masters. */
  holds: string[] | 'all';
  user?: string;
}

const fineGrained = ['pods', 'healthz', 'metrics', 'stats', 'log', 'configz'];
const identities: Identity[] = [
  { label: 'anonymous', holds: [] },
  { label: 'token without rights', token: 'na-token-none', holds: [], user: 'nobody' },
  { label: 'nodes/proxy', token: 'na-token-proxy', holds: ['proxy'], user: 'proxy-reader' },
  { label: 'fine-grained subresources', token: 'na-token-fine', holds: fineGrained, user: 'monitor' },
  ...fineGrained.map((subresource) => ({
    label: `only nodes/${subresource}`,
    token: `na-token-${subresource}`,
    holds: [subresource],
    user: `only-${subresource}`,
  })),
  { label: 'client certificate in system:masters', cert: true, holds: 'all', user: 'admin' },
];

let h: EngineHarness;
let api: ApiServer;
let server: RunningServer;
let admin: ClientCertificate;

beforeAll(async () => {
  h = await startEngine();
  h.kubelet.addPod(
    testPod({ containers: [{ name: 'app', image: busybox, command: ['sleep', '3600'] }] }, 'web'),
  );
  await h.kubelet.settle();
  api = await startApiServer({ certificates: false });
  for (const identity of identities) {
    if (!identity.token || !identity.user || identity.holds === 'all') continue;
    api.accessReviews.addToken(identity.token, { username: identity.user });
    // Every verb, as a `*` rule grants it: HEAD's empty verb included.
    const resources = identity.holds.map((subresource) => `nodes/${subresource}`);
    if (resources.length > 0)
      api.accessReviews.grant({
        name: `${identity.user}-nodes`,
        subjects: [{ kind: 'User', name: identity.user }],
        rules: [{ verbs: ['*'], apiGroups: [''], resources }],
      });
  }
  admin = await clientCertificate('admin', ['system:masters']);
  const serving = await selfSignedCertificate('node-a', ['127.0.0.1']);
  server = await listen(
    createKubeletServer({
      kubelet: h.kubelet,
      nodeName: 'node-a',
      podLogsDir: `${h.dir}/logs`,
      systemLogs: { dir: h.dir, query: false },
      streaming: criStreamingRuntime(h.client),
      debugRuntime: criDebugRuntime(h.client),
      setVerbosity: () => undefined,
      configz: () => ({ maxPods: 110 }),
      summary: new CriSummaryProvider({
        nodeName: 'node-a',
        rootDir: `${h.dir}/root`,
        podLogsDir: `${h.dir}/logs`,
        cri: h.client,
      }),
      tls: { cert: serving.cert, key: serving.key, ca: admin.caPem },
      authenticate: kubeletAuthenticator({
        x509: true,
        tokenReview: authenticationV1Requests(api.kubeConfig()),
        anonymous: false,
      }),
      authorize: subjectAccessReviewAuthorizer(authorizationV1Requests(api.kubeConfig())),
    }),
    0,
    '127.0.0.1',
  );
});

afterAll(async () => {
  await server?.close();
  await api?.close();
  await h?.close();
});

function send(identity: Identity, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({
      host: '127.0.0.1',
      port: server.port,
      method,
      path,
      rejectUnauthorized: false,
      headers: identity.token ? { Authorization: `Bearer ${identity.token}` } : {},
      ...(identity.cert ? { cert: admin.certPem, key: admin.keyPem } : {}),
    });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end(method === 'PUT' ? '3' : undefined);
  });
}

/** What upstream answers `identity` on `path`: 401, 403 with its message, or the admitted answer. */
function expected(identity: Identity, method: string, path: string, admitted: number) {
  const pathname = path.split('?')[0] as string;
  if (unregistered.has(pathname)) return { status: 404, body: '404 page not found\n' };
  if (!identity.user) return { status: 401, body: 'Unauthorized' };
  const subresources = upstreamSubresources(pathname);
  const allowed = identity.holds === 'all' || subresources.some((s) => identity.holds.includes(s));
  if (allowed) return { status: admitted };
  return {
    status: 403,
    body: `Forbidden (user=${identity.user}, verb=${verbs[method]}, resource=nodes, subresource(s)=[${subresources.join(' ')}])\n`,
  };
}

/** The SubjectAccessReviews the API server was asked, as user, verb, nodes subresource and node. */
function reviewed() {
  return api.accessReviews.asked.map(({ user = '', resourceAttributes: a = {} }) => ({
    user,
    verb: a.verb ?? '',
    subresource: a.subresource ?? '',
    name: a.name ?? '',
  }));
}

describe('the kubelet server door: every path × five identities (TLS, TokenReview, SubjectAccessReview)', () => {
  for (const identity of identities) {
    it(`answers ${identity.label} as upstream's auth filter would`, async () => {
      const cells = [];
      for (const [method, path, admitted] of paths) {
        const got = await send(identity, method, path);
        const want = expected(identity, method, path, admitted);
        cells.push({ method, path, got: 'body' in want ? got : { status: got.status }, want });
      }
      for (const cell of cells)
        expect({ cell: `${cell.method} ${cell.path}`, ...cell.got }).toEqual({
          cell: `${cell.method} ${cell.path}`,
          ...cell.want,
        });
    });
  }

  it('asks SubjectAccessReview for the fine-grained subresource first, then the broad one, for this node', async () => {
    api.accessReviews.asked.length = 0;
    await send(identities[2] as Identity, 'GET', '/pods');
    await send(identities[1] as Identity, 'GET', '/configz');
    await send(identities[3] as Identity, 'GET', '/healthz');
    expect(reviewed()).toEqual([
      { user: 'proxy-reader', verb: 'get', subresource: 'pods', name: 'node-a' },
      { user: 'proxy-reader', verb: 'get', subresource: 'proxy', name: 'node-a' },
      { user: 'nobody', verb: 'get', subresource: 'configz', name: 'node-a' },
      { user: 'nobody', verb: 'get', subresource: 'proxy', name: 'node-a' },
      { user: 'monitor', verb: 'get', subresource: 'healthz', name: 'node-a' },
    ]);
    // The whole review as the API server read it: version v1, the empty group and namespace omitted.
    expect(api.accessReviews.asked.at(-1)).toEqual({
      resourceAttributes: {
        verb: 'get',
        version: 'v1',
        resource: 'nodes',
        subresource: 'healthz',
        name: 'node-a',
      },
      user: 'monitor',
      groups: ['system:authenticated'],
    });
  });

  it("reviews HEAD with upstream's empty verb (only a `*` rule grants it), then go-restful refuses the method", async () => {
    api.accessReviews.asked.length = 0;
    // nodes/proxy is granted for every verb, as a `*` rule does.
    const proxy = await send(identities[2] as Identity, 'HEAD', '/pods');
    expect(proxy.status).toBe(405);
    expect(reviewed().map((review) => [review.verb, review.subresource])).toEqual([
      ['', 'pods'],
      ['', 'proxy'],
    ]);
  });

  it('never asks about a caller it could not authenticate, and refuses an unknown token 401', async () => {
    api.accessReviews.asked.length = 0;
    const stranger = await send(
      { label: 'bad token', token: 'na-token-forged', holds: [], user: 'x' },
      'GET',
      '/pods',
    );
    expect(stranger).toEqual({ status: 401, body: 'Unauthorized' });
    expect(reviewed()).toEqual([]);
  });
});
