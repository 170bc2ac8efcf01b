import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criDebugRuntime } from '../src/server/debug-runtime';
import { isDebuggingDisabledPath, subtreeRoots } from '../src/server/debugging-handlers';
import {
  createKubeletServer,
  type KubeletServerOptions,
  listen,
  type RunningServer,
} from '../src/server/kubelet-server';
import { matchesAccept } from '../src/server/restful-negotiation';
import { criStreamingRuntime } from '../src/server/streaming-runtime';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { openServerOptions } from './helpers/open-kubelet-server';
import { upgradeStatus } from './helpers/upgrade-status';

// How upstream v1.36's kubelet server routes a request before any handler runs
// (pkg/kubelet/server/server.go): Go's ServeMux, the auth filter, enableDebuggingHandlers: false
// (InstallDebuggingDisabledHandlers), and go-restful's route selection (method, Accept).

let h: EngineHarness;
let disabled: RunningServer;
let guarded: RunningServer;
let enabled: RunningServer;
const pod = testPod({ containers: [{ name: 'app', image: busybox, command: ['sleep', '3600'] }] }, 'web');

beforeAll(async () => {
  h = await startEngine();
  h.kubelet.addPod(pod);
  await h.kubelet.settle();
  const base: KubeletServerOptions = {
    ...openServerOptions(h),
    // Everything the debugging handlers would serve is offered: the setting must win.
    streaming: criStreamingRuntime(h.client),
    debugRuntime: criDebugRuntime(h.client),
    setVerbosity: () => undefined,
    configz: () => ({ maxPods: 110 }),
  };
  disabled = await listen(createKubeletServer({ ...base, debuggingHandlers: false }), 0, '127.0.0.1');
  enabled = await listen(createKubeletServer(base), 0, '127.0.0.1');
  guarded = await listen(
    createKubeletServer({
      ...base,
      debuggingHandlers: false,
      authenticate: async (request) => {
        const user = request.headers['x-user'];
        if (user === 'broken') throw new Error('TokenReview: connection refused');
        return user ? { name: String(user), groups: [] } : undefined;
      },
      // dora holds only nodes/log.
      authorize: async (user, attributes) => user.name === 'dora' && attributes.subresource === 'log',
    }),
    0,
    '127.0.0.1',
  );
});

afterAll(async () => {
  for (const server of [disabled, guarded, enabled]) await server?.close();
  await h?.close();
});

const call = (server: RunningServer, method: string, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${server.port}${path}`, { method, headers, redirect: 'manual' });

async function answer(response: Response) {
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    nosniff: response.headers.get('x-content-type-options'),
    body: await response.text(),
  };
}

/** One path under each of upstream's debugging-disabled patterns. */
const debugPaths = [
  '/run/default/web/app?cmd=true',
  '/exec/default/web/app?command=true&output=1',
  '/attach/default/web/app',
  '/portForward/default/web?port=80',
  '/containerLogs/default/web/app',
  '/runningpods/',
  '/debug/pprof/',
  '/debug/pprof/profile',
  '/logs/',
  '/logs/messages',
];

describe('enableDebuggingHandlers: false (upstream InstallDebuggingDisabledHandlers)', () => {
  it("answers every method on every debugging path 405 with http.Error's 'Debug endpoints are disabled.'", async () => {
    for (const path of debugPaths) {
      for (const method of ['GET', 'POST', 'PUT']) {
        expect({ path, method, ...(await answer(await call(disabled, method, path))) }).toEqual({
          path,
          method,
          status: 405,
          type: 'text/plain; charset=utf-8',
          nosniff: 'nosniff',
          body: 'Debug endpoints are disabled.\n',
        });
      }
    }
  });

  it('serves the same paths when the handlers are on (the setting, not the path, decides)', async () => {
    expect((await call(enabled, 'GET', '/runningpods/')).status).toBe(200);
    expect((await call(enabled, 'GET', '/containerLogs/default/web/app')).status).toBe(200);
    expect((await call(enabled, 'GET', '/configz')).status).toBe(200);
  });

  it('does not serve /configz, /checkpoint/ and /debug/flags/v at all (not registered: 404)', async () => {
    for (const [method, path] of [
      ['GET', '/configz'],
      ['POST', '/checkpoint/default/web/app'],
      ['PUT', '/debug/flags/v'],
    ] as const) {
      expect(await answer(await call(disabled, method, path))).toEqual({
        status: 404,
        type: 'text/plain; charset=utf-8',
        nosniff: null,
        body: '404 page not found\n',
      });
    }
  });

  it('keeps serving /healthz, /pods and /metrics (installed whatever the setting)', async () => {
    expect(await (await call(disabled, 'GET', '/healthz')).text()).toBe('ok');
    expect((await call(disabled, 'GET', '/pods')).status).toBe(200);
    expect((await call(disabled, 'GET', '/metrics')).status).toBe(200);
  });

  it('authenticates and authorizes first: 401, then 403 naming the path subresources, then 405', async () => {
    expect(await answer(await call(guarded, 'POST', '/run/default/web/app?cmd=true'))).toMatchObject({
      status: 401,
      body: 'Unauthorized',
    });
    expect((await call(guarded, 'GET', '/exec/default/web/app', { 'x-user': 'broken' })).status).toBe(401);
    const bob = (path: string, method = 'GET') => call(guarded, method, path, { 'x-user': 'bob' });
    expect(await (await bob('/exec/default/web/app', 'POST')).text()).toBe(
      'Forbidden (user=bob, verb=create, resource=nodes, subresource(s)=[proxy])\n',
    );
    expect(await (await bob('/runningpods/')).text()).toBe(
      'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[pods proxy])\n',
    );
    expect(await (await bob('/logs/')).text()).toBe(
      'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[log])\n',
    );
    const dora = await call(guarded, 'GET', '/logs/messages', { 'x-user': 'dora' });
    expect(await answer(dora)).toMatchObject({ status: 405, body: 'Debug endpoints are disabled.\n' });
  });

  it('answers an upgrade request on /exec 405 too, after authentication', async () => {
    const path = '/exec/default/web/app?command=true&output=1';
    expect(await upgradeStatus(disabled.port, path)).toEqual({
      status: 405,
      body: 'Debug endpoints are disabled.\n',
    });
    expect((await upgradeStatus(guarded.port, path)).status).toBe(401);
  });
});

describe("Go's ServeMux redirect of a subtree root asked without its slash", () => {
  it('redirects /run, /exec, … (disabled) and /runningpods, /stats (always) 301 before authentication', async () => {
    for (const root of [
      '/run',
      '/exec',
      '/attach',
      '/portForward',
      '/containerLogs',
      '/runningpods',
      '/logs',
    ]) {
      const moved = await call(guarded, 'GET', `${root}?a=1`);
      expect({ root, ...(await answer(moved)), location: moved.headers.get('location') }).toEqual({
        root,
        status: 301,
        type: 'text/html; charset=utf-8',
        nosniff: null,
        body: `<a href="${root}/?a=1">Moved Permanently</a>.\n\n`,
        location: `${root}/?a=1`,
      });
    }
    const posted = await call(enabled, 'POST', '/stats');
    expect(await answer(posted)).toEqual({ status: 301, type: null, nosniff: null, body: '' });
    expect(posted.headers.get('location')).toBe('/stats/');
    // /exec is a web service of its own when the handlers are on: no redirect.
    expect((await call(enabled, 'GET', '/exec')).status).toBe(404);
    expect((await call(enabled, 'GET', '/checkpoint')).headers.get('location')).toBe('/checkpoint/');
    // The decoded path cleans to the root: `/` plus the subtree's slash is `//`, and
    // http.Redirect's own clean sends `/` (found by the fuzz test below with 20,000 runs).
    for (const path of ['/checkpoint/%2e%2e/..', '/stats/%2E%2e/..?a=1'])
      expect({ path, location: (await rawGet(enabled.port, path)).location }).toEqual({
        path,
        location: path.includes('?') ? '/?a=1' : '/',
      });
  });

  it('redirects an unclean path to its cleaned form and answers a malformed escape 400, both before auth', async () => {
    for (const [path, location] of [
      ['/pods/../configz?a=1', '/configz?a=1'],
      ['//', '/'],
      ['/./pods/', '/pods/'],
    ]) {
      const raw = await rawGet(guarded.port, path as string);
      expect({ path, status: raw.status, location: raw.location }).toEqual({ path, status: 301, location });
    }
    expect(await rawGet(guarded.port, '/containerLogs/%zz/web/app')).toMatchObject({
      status: 400,
      body: '400 Bad Request',
    });
    // A valid escape of a byte that is not UTF-8 is a name like any other (Go keeps the byte).
    expect((await rawGet(enabled.port, '/containerLogs/%E0/web/app')).status).toBe(404);
  });

  it('lists the roots per mode and matches the disabled subtrees as Go prefixes', () => {
    expect(subtreeRoots({ debuggingHandlers: true, checkpoint: false })).toEqual([
      '/stats',
      '/runningpods',
      '/logs',
      '/debug/pprof',
    ]);
    expect(subtreeRoots({ debuggingHandlers: true, checkpoint: true })).toContain('/checkpoint');
    expect(subtreeRoots({ debuggingHandlers: false, checkpoint: true })).not.toContain('/checkpoint');
    expect(isDebuggingDisabledPath('/runningpods/x')).toBe(true);
    expect(isDebuggingDisabledPath('/runningpods')).toBe(false);
    expect(isDebuggingDisabledPath('/running/')).toBe(false);
    expect(isDebuggingDisabledPath('/debug/flags/v')).toBe(false);
    expect(isDebuggingDisabledPath('/checkpoint/a/b/c')).toBe(false);
  });
});

// Go's net/http decodes the request path (URL.Path) and its 1.22+ ServeMux matches the escaped
// path's slash-separated segments, each decoded (net/http/server.go findHandler, routing_tree.go
// firstSegment): an escape of an ordinary byte is that byte, an escaped slash or dot is not a
// separator or a dot segment for the mux (golang/go#70130), but the handler, the auth filter and
// go-restful's router read the decoded path. The fetch API would rewrite these targets; rawGet
// sends them as written.
describe("paths decoded as Go's net/http and ServeMux decode them", () => {
  it('serves an escaped ordinary byte as the byte: /p%6Fds is /pods, /healthz/p%69ng is /healthz/ping', async () => {
    const pods = await rawGet(enabled.port, '/p%6Fds');
    expect({ status: pods.status, kind: JSON.parse(pods.body).kind }).toEqual({
      status: 200,
      kind: 'PodList',
    });
    expect(await rawGet(enabled.port, '/healthz/p%69ng')).toMatchObject({ status: 200, body: 'ok' });
    const logs = await rawGet(enabled.port, '/containerLogs/def%61ult/w%65b/app?tailLines=1');
    expect(logs.status).toBe(200);
    // The subtree-root redirect goes to the decoded path with its slash.
    expect(await rawGet(enabled.port, '/running%70ods?a=1')).toMatchObject({
      status: 301,
      location: '/runningpods/?a=1',
    });
    expect(await rawGet(enabled.port, '/./running%70ods')).toMatchObject({
      status: 301,
      location: '/runningpods/',
    });
  });

  it('authorizes the decoded path: /l%6Fgs/ is nodes/log, refused or admitted as /logs/', async () => {
    expect(await rawGet(guarded.port, '/l%6Fgs/x', { 'x-user': 'dora' })).toMatchObject({
      status: 405,
      body: 'Debug endpoints are disabled.\n',
    });
    expect(await rawGet(guarded.port, '/l%6Fgs/x', { 'x-user': 'eve' })).toMatchObject({
      status: 403,
      body: 'Forbidden (user=eve, verb=get, resource=nodes, subresource(s)=[log])\n',
    });
  });

  it("keeps an escaped slash inside its segment for the mux (404) but not for go-restful's router", async () => {
    for (const path of ['/healthz%2Fping', '/pods%2F', '/metrics%2Fcadvisor'])
      expect({ path, ...(await rawGet(enabled.port, path)) }).toMatchObject({
        path,
        status: 404,
        body: '404 page not found\n',
      });
    // Under /containerLogs/ the mux matches; go-restful then sees four segments: no route.
    expect(await rawGet(enabled.port, '/containerLogs/default/we%2Fb/app')).toMatchObject({
      status: 404,
      body: '404: Page Not Found',
    });
    // ... after the auth filter, which refuses an anonymous caller first.
    expect((await rawGet(guarded.port, '/containerLogs/default/we%2Fb/app')).status).toBe(401);
  });

  it('does not clean encoded dots (no redirect): /pods/%2e%2e/configz stays under /pods/ and finds no route', async () => {
    expect(await rawGet(enabled.port, '/pods/%2e%2e/configz')).toMatchObject({
      status: 404,
      body: '404: Page Not Found',
    });
    expect((await rawGet(guarded.port, '/pods/%2e%2e/configz')).status).toBe(401);
    expect(await rawGet(enabled.port, '/stats/..%2Fpods')).toMatchObject({
      status: 404,
      body: '404: Page Not Found',
    });
  });

  it('redirects an unclean path to the cleaned escaped path escaped again, as url.URL.String does', async () => {
    // golang/go#79897: the cleaned path is the escaped one, and String() escapes its '%'.
    expect(await rawGet(guarded.port, '//p%6Fds?x=1')).toMatchObject({
      status: 301,
      location: '/p%256Fds?x=1',
    });
    expect(await rawGet(guarded.port, '/pods/./a%2Fb')).toMatchObject({
      status: 301,
      location: '/pods/a%252Fb',
    });
  });
});

describe("go-restful's route selection (RouterJSR311.detectRoute): method, then Accept against Produces", () => {
  const withAccept = (method: string, path: string, accept: string) =>
    call(enabled, method, path, { accept });
  const notAcceptable = (available: string) => ({
    status: 406,
    type: 'text/plain; charset=utf-8',
    nosniff: null,
    body: `406: Not Acceptable\n\nAvailable representations: ${available}`,
  });

  it('answers 406 naming application/json where the web service produces JSON (/pods, /runningpods/, /checkpoint/)', async () => {
    expect(await answer(await withAccept('GET', '/pods', 'application/xml'))).toEqual(
      notAcceptable('application/json'),
    );
    expect(await answer(await withAccept('GET', '/runningpods/', 'text/plain'))).toEqual(
      notAcceptable('application/json'),
    );
    expect(await answer(await withAccept('POST', '/checkpoint/default/web/app', 'text/plain'))).toEqual(
      notAcceptable('application/json'),
    );
    // go-restful knows no `type/*` wildcard.
    expect((await withAccept('GET', '/pods', 'application/*')).status).toBe(406);
    expect((await withAccept('GET', '/pods', 'text/html, application/json;q=0.9')).status).toBe(200);
    expect((await withAccept('GET', '/runningpods/', 'text/html, */*;q=0.1')).status).toBe(200);
  });

  it('serves the routes without Produces (/run, /exec, /containerLogs) only to */* or no Accept', async () => {
    expect(
      await answer(await withAccept('POST', '/run/default/web/app?cmd=true', 'application/json')),
    ).toEqual(notAcceptable(''));
    expect(await answer(await withAccept('GET', '/containerLogs/default/web/app', 'text/plain'))).toEqual(
      notAcceptable(''),
    );
    expect(
      await answer(await withAccept('GET', '/exec/default/web/app?command=true&output=1', 'text/plain')),
    ).toEqual(notAcceptable(''));
    const raw = await fetch(`http://127.0.0.1:${enabled.port}/containerLogs/default/web/app`, {
      headers: { accept: '' },
    });
    expect(raw.status).toBe(200);
    const path = '/exec/default/web/app?command=true&output=1';
    expect(await upgradeStatus(enabled.port, path, { Accept: 'application/json' })).toEqual({
      status: 406,
      body: '406: Not Acceptable\n\nAvailable representations: ',
    });
  });

  it('answers a method the route does not take 405 with Allow, before looking at Accept', async () => {
    for (const [method, path, allow] of [
      ['POST', '/pods', 'GET'],
      ['DELETE', '/runningpods/', 'GET'],
      ['POST', '/containerLogs/default/web/app', 'GET'],
      ['PUT', '/exec/default/web/app', 'GET, POST'],
      ['GET', '/run/default/web/app', 'POST'],
    ] as const) {
      const refused = await call(enabled, method, path, { accept: 'application/xml' });
      expect({ path, ...(await answer(refused)), allow: refused.headers.get('allow') }).toEqual({
        path,
        status: 405,
        type: 'text/plain; charset=utf-8',
        nosniff: null,
        body: '405: Method Not Allowed',
        allow,
      });
    }
  });

  it("answers a path a web service has no route for with go-restful's 404, the mux's elsewhere", async () => {
    for (const path of [
      '/pods/x',
      '/stats/nope',
      '/runningpods/x',
      '/exec/a/b',
      '/containerLogs/a/b',
      '/exec',
    ]) {
      expect({ path, ...(await answer(await call(enabled, 'GET', path))) }).toEqual({
        path,
        status: 404,
        type: 'text/plain; charset=utf-8',
        nosniff: null,
        body: '404: Page Not Found',
      });
    }
    expect(await (await call(enabled, 'GET', '/configz/x')).text()).toBe('404 page not found\n');
    expect(await (await call(disabled, 'GET', '/pods/x')).text()).toBe('404: Page Not Found');
  });

  it('leaves handlers on the mux alone: /healthz, /metrics and /configz ignore Accept', async () => {
    for (const path of ['/healthz', '/metrics', '/configz'])
      expect((await withAccept('GET', path, 'application/xml')).status).toBe(200);
  });

  it("matches Accept entries as go-restful's matchesAccept: parameters cut, spaces trimmed, nothing else", () => {
    expect(matchesAccept(' application/json ;q=0.5', ['application/json'])).toBe(true);
    expect(matchesAccept('\tapplication/json', ['application/json'])).toBe(false);
    expect(matchesAccept('text/plain,*/*', [])).toBe(true);
    expect(matchesAccept('application/json', [])).toBe(false);
    expect(matchesAccept('', ['application/json'])).toBe(false);
  });
});

/** A GET sent with the target exactly as written (fetch would clean it first). */
function rawGet(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; location?: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
}
