import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kubelet } from '../src/kubelet';
import {
  createKubeletServer,
  type KubeletServerOptions,
  listen,
  type RunningServer,
} from '../src/server/kubelet-server';
import { profilingDisabled, profilingUnavailable } from '../src/server/profiling-route';
import { kubeletAuthenticator } from '../src/server/server-auth';

// /debug/pprof/ as upstream v1.36's InstallProfilingHandler(enableProfilingHandler, ...)
// registers it under the debugging handlers (pkg/kubelet/server/server.go), behind the same
// filter: the authorizer is asked for nodes/proxy (the fallback of upstream's path mapping).

const seen: string[] = [];
const servers: RunningServer[] = [];
let on: RunningServer;
let off: RunningServer;
let noDebugging: RunningServer;

beforeAll(async () => {
  const base: KubeletServerOptions = {
    // No route here reads the kubelet.
    kubelet: {} as Kubelet,
    nodeName: 'node-a',
    podLogsDir: '/nonexistent',
    authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
    authorize: async (_user, attributes) => {
      seen.push(`${attributes.verb} ${attributes.subresource}`);
      return true;
    },
  };
  on = await listen(createKubeletServer(base), 0, '127.0.0.1');
  off = await listen(createKubeletServer({ ...base, profilingHandler: false }), 0, '127.0.0.1');
  noDebugging = await listen(createKubeletServer({ ...base, debuggingHandlers: false }), 0, '127.0.0.1');
  servers.push(on, off, noDebugging);
});

afterAll(async () => {
  for (const server of servers) await server.close();
});

async function call(server: RunningServer, method: string, path: string) {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { method, redirect: 'manual' });
  return { status: response.status, body: await response.text(), location: response.headers.get('location') };
}

describe('/debug/pprof/', () => {
  it('enableProfilingHandler true (default): a GET is 501 naming the setting, authorized as nodes/proxy', async () => {
    seen.length = 0;
    for (const path of ['/debug/pprof/', '/debug/pprof/heap', '/debug/pprof/profile?seconds=1']) {
      expect(await call(on, 'GET', path)).toEqual({
        status: 501,
        body: `${profilingUnavailable}\n`,
        location: null,
      });
    }
    expect(seen).toEqual(['get proxy', 'get proxy', 'get proxy']);
    expect(profilingUnavailable).toContain('enableProfilingHandler: false');
  });

  it("another method is go-restful's 405 (the web service takes GET only)", async () => {
    expect((await call(on, 'POST', '/debug/pprof/heap')).status).toBe(405);
  });

  it('enableProfilingHandler false: every method 405 "profiling endpoint is disabled." (http.Error)', async () => {
    for (const method of ['GET', 'POST', 'PUT']) {
      expect(await call(off, method, '/debug/pprof/profile')).toEqual({
        status: 405,
        body: `${profilingDisabled}\n`,
        location: null,
      });
    }
  });

  it("/debug/pprof without the slash: Go's mux redirects to the subtree", async () => {
    expect(await call(on, 'GET', '/debug/pprof')).toMatchObject({ status: 301, location: '/debug/pprof/' });
  });

  it('enableDebuggingHandlers false wins: 405 "Debug endpoints are disabled."', async () => {
    expect(await call(noDebugging, 'GET', '/debug/pprof/')).toMatchObject({
      status: 405,
      body: 'Debug endpoints are disabled.\n',
    });
  });
});
