import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { applyConnectionOptions } from '../src/connection-options';
import { HTTP2_STREAM_CHANNEL } from '../src/connections-entry';
import { forgetEnvironmentProxies } from '../src/environment-proxy';
import { apiRequest } from '../src/index';
import { namespaces, watchOptions } from './namespace-watches';

/** An HTTP CONNECT proxy that sends every tunnel to `port` on 127.0.0.1, and the targets it was asked for. */
async function connectProxy(
  port: number,
  refuse = false,
): Promise<{ server: Server; port: number; targets: string[] }> {
  const targets: string[] = [];
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client) => {
    targets.push(req.url ?? '');
    if (refuse) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
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

  /** A TLS API server reachable only through a CONNECT proxy that HTTPS_PROXY names. */
  async function serverBehindProxy(http2: boolean) {
    api = await startApiServer({ tls: true, http2 });
    const tunnel = await connectProxy(api.port);
    proxy = tunnel.server;
    process.env.HTTPS_PROXY = `http://127.0.0.1:${tunnel.port}`;
    forgetEnvironmentProxies();
    return { tunnel, kubeConfig: behindProxy(api), target: `apiserver.example:${api.port}` };
  }

  /** Three requests, a list and a watch the server ends after 1 s. */
  async function requestsListAndWatch(kubeConfig: KubeConfig): Promise<void> {
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
  }

  it('over HTTP/2, every request and watch is a stream on one connection in one tunnel', async () => {
    const { tunnel, kubeConfig, target } = await serverBehindProxy(true);
    const streams: unknown[] = [];
    const listener = (message: unknown) => streams.push(message);
    subscribe(HTTP2_STREAM_CHANNEL, listener);
    try {
      await requestsListAndWatch(kubeConfig);
    } finally {
      unsubscribe(HTTP2_STREAM_CHANNEL, listener);
    }
    expect(tunnel.targets).toEqual([target]);
    expect(streams).toHaveLength(5);
  });

  it("a kubeconfig's proxy-url comes first, with HTTP/2 in its tunnel too", async () => {
    const { tunnel, target } = await serverBehindProxy(true);
    process.env.HTTPS_PROXY = 'http://127.0.0.1:1';
    forgetEnvironmentProxies();
    const kubeConfig = behindProxy(api!);
    kubeConfig.clusters = kubeConfig.clusters.map((c) => ({
      ...c,
      proxyUrl: `http://127.0.0.1:${tunnel.port}`,
    }));
    await requestsListAndWatch(kubeConfig);
    expect(tunnel.targets).toEqual([target]);
  });

  it("a tunnel the proxy refuses fails the request with the proxy's answer", async () => {
    api = await startApiServer({ tls: true });
    const refusing = await connectProxy(api.port, true);
    proxy = refusing.server;
    process.env.HTTPS_PROXY = `http://127.0.0.1:${refusing.port}`;
    forgetEnvironmentProxies();
    await expect(apiRequest(behindProxy(api), { method: 'GET', path: '/api/v1/namespaces' })).rejects.toThrow(
      `proxyconnect apiserver.example:${api.port}: 403 Forbidden`,
    );
  });

  it('to a server without HTTP/2, over kept HTTP/1.1 tunnels; NO_PROXY sends them direct', async () => {
    const { tunnel, kubeConfig, target } = await serverBehindProxy(false);
    await requestsListAndWatch(kubeConfig);
    // The ALPN answer in its own tunnel, then one kept tunnel for the requests and one for the list and watch.
    expect(tunnel.targets).toEqual([target, target, target]);

    process.env.NO_PROXY = '.example';
    forgetEnvironmentProxies();
    // Exempt: a plain kept agent, the request's own connection to the server (no proxy asked).
    const direct = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    const agent = await applyConnectionOptions(behindProxy(api!), direct);
    expect(agent?.constructor.name).toBe('Agent');
    expect(direct.agent).toBe(agent);
    const proxied = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    delete process.env.NO_PROXY;
    forgetEnvironmentProxies();
    const proxyAgent = await applyConnectionOptions(behindProxy(api!), proxied);
    expect(proxyAgent?.constructor.name).toBe('HttpsProxyAgent');
    expect(proxied.agent).toBe(proxyAgent);
  });
});
