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
import { alwaysAllow, kubeletAuthenticator } from '../src/server/server-auth';
import { criStreamingRuntime } from '../src/server/streaming-runtime';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

// enableDebuggingHandlers: false as upstream v1.36's NewServer installs it
// (pkg/kubelet/server/server.go: InstallDebuggingDisabledHandlers, behind InstallAuthFilter).

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
    kubelet: h.kubelet,
    nodeName: 'node-a',
    podLogsDir: `${h.dir}/logs`,
    authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
    authorize: alwaysAllow,
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
    expect(await upgrade(disabled.port, path)).toEqual({
      status: 405,
      body: 'Debug endpoints are disabled.\n',
    });
    expect((await upgrade(guarded.port, path)).status).toBe(401);
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

function upgrade(port: number, path: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}
