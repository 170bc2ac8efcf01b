import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { applyConnectionOptions } from '../src/connection-options';
import { forgetEnvironmentProxies } from '../src/environment-proxy';
import { apiRequest } from '../src/index';
import { namespaces, watchOptions } from './namespace-watches';

/** An HTTP CONNECT proxy that sends every tunnel to `port` on 127.0.0.1, and the targets it was asked for. */
async function connectProxy(port: number): Promise<{ server: Server; port: number; targets: string[] }> {
  const targets: string[] = [];
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client) => {
    targets.push(req.url ?? '');
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, targets };
}

/** `api`'s kubeconfig naming its server `apiserver.example`, which only the proxy can reach. */
function behindProxy(api: ApiServer): KubeConfig {
  const source = api.kubeConfig();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: source.getClusters().map((c) => ({
      ...c,
      server: `https://apiserver.example:${api.port}`,
      tlsServerName: 'localhost',
    })),
    users: source.getUsers(),
    contexts: source.getContexts(),
    currentContext: source.getCurrentContext(),
  });
  return kc;
}

describe("requests through the environment's proxy (HTTPS_PROXY, NO_PROXY)", { timeout: 30_000 }, () => {
  let api: ApiServer | undefined;
  let proxy: Server | undefined;
  afterEach(async () => {
    proxy?.close();
    await api?.close();
    delete process.env.HTTPS_PROXY;
    delete process.env.NO_PROXY;
    forgetEnvironmentProxies();
  });

  it('requests, a list and a watch go through HTTPS_PROXY over kept tunnels; NO_PROXY sends them direct', async () => {
    api = await startApiServer({ tls: true });
    const tunnel = await connectProxy(api.port);
    proxy = tunnel.server;
    process.env.HTTPS_PROXY = `http://127.0.0.1:${tunnel.port}`;
    forgetEnvironmentProxies();
    const kubeConfig = behindProxy(api);
    for (let i = 0; i < 3; i++) {
      const list = await apiRequest<{ kind: string }>(kubeConfig, {
        method: 'GET',
        path: '/api/v1/namespaces',
      });
      expect(list.kind).toBe('NamespaceList');
    }
    const lw = namespaces(kubeConfig);
    const page = await lw.list({}, new AbortController().signal);
    await lw.watch(watchOptions(page.resourceVersion, 1), () => {}, new AbortController().signal);
    // One tunnel for the requests, kept; one for the list and watch.
    expect(tunnel.targets).toEqual([`apiserver.example:${api.port}`, `apiserver.example:${api.port}`]);

    process.env.NO_PROXY = '.example';
    forgetEnvironmentProxies();
    // Exempt: a plain kept agent, the request's own connection to the server (no proxy asked).
    const direct = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    const agent = await applyConnectionOptions(behindProxy(api), direct);
    expect(agent?.constructor.name).toBe('Agent');
    expect(direct.agent).toBe(agent);
    const proxied = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    delete process.env.NO_PROXY;
    forgetEnvironmentProxies();
    expect(await applyConnectionOptions(behindProxy(api), proxied)).toBeUndefined();
    expect(proxied.agent?.constructor.name).toBe('HttpsProxyAgent');
  });
});
