import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { type ApiServer, startApiServer, startTcpRelay } from '@nodeagent/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyConnectionOptions } from '../src/connection-options';
import { apiRequest } from '../src/index';
import { sharedSecureContext } from '../src/secure-context';
import { listAndRenewThrice, namespaces, watchOptions } from './namespace-watches';
import { plainHttpKubeConfig } from './plain-http-kube-config';
import { throughRelay } from './through-relay';

// These are the HTTP/1.1 pools, which carry requests when the server has no HTTP/2: client-go's
// DISABLE_HTTP2 keeps every request here on them (http2-transport.test.ts has the HTTP/2 side).
beforeAll(() => {
  process.env.DISABLE_HTTP2 = 'true';
});
afterAll(() => {
  delete process.env.DISABLE_HTTP2;
});

describe('API requests share one keep-alive connection per KubeConfig', { timeout: 30_000 }, () => {
  let api: ApiServer | undefined;
  let relay: Server | undefined;
  afterEach(async () => {
    relay?.close();
    await api?.close();
  });

  it('ten requests over HTTPS open one connection, not ten (client-node makes an agent per call)', async () => {
    api = await startApiServer({ tls: true });
    const counting = await startTcpRelay(api.port);
    relay = counting.server;
    const kubeConfig = throughRelay(api, counting.port);
    for (let i = 0; i < 10; i++) await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
    expect(counting.connections()).toBe(1);
    // Another KubeConfig is another client: its own connection.
    await apiRequest(throughRelay(api, counting.port), { method: 'GET', path: '/api/v1/namespaces' });
    expect(counting.connections()).toBe(2);
  });

  it('a burst of forty requests shares at most eight connections and every request is answered', async () => {
    api = await startApiServer({ tls: true });
    const counting = await startTcpRelay(api.port);
    relay = counting.server;
    const kubeConfig = throughRelay(api, counting.port);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' })),
    );
    expect(answers).toHaveLength(40);
    expect(answers.every((a) => (a as { kind?: string }).kind === 'NamespaceList')).toBe(true);
    expect(counting.connections()).toBeLessThanOrEqual(8);
    expect(counting.connections()).toBeGreaterThan(1);
  });

  it('keeps the agent while the TLS material stays, makes a new one when it changes', async () => {
    api = await startApiServer({ tls: true });
    const kubeConfig = api.kubeConfig();
    const first = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    const second = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    await applyConnectionOptions(kubeConfig, first);
    await applyConnectionOptions(kubeConfig, second);
    expect(second.agent).toBe(first.agent);
    expect((first.agent as { keepAlive?: boolean }).keepAlive).toBe(true);
    // A rotated client certificate: the same KubeConfig's user now carries other material.
    const user = kubeConfig.getCurrentUser() as { certData?: string };
    user.certData = Buffer.from('rotated').toString('base64');
    const third = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    await applyConnectionOptions(kubeConfig, third);
    expect(third.agent).not.toBe(first.agent);
  });

  it("gives every connection with the same TLS material one context: the kept agent's, a watch's, another KubeConfig's", async () => {
    api = await startApiServer({ tls: true });
    const kubeConfig = api.kubeConfig();
    const request = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    await applyConnectionOptions(kubeConfig, request);
    const agentContext = (request.agent as unknown as { options: { secureContext?: unknown } }).options
      .secureContext;
    expect(agentContext).toBeDefined();
    // A watch's options (the lists' and watches' kept agent, as KubeListerWatcher opens them).
    const watch = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    await applyConnectionOptions(kubeConfig, watch, 'streams');
    expect(watch.agent).not.toBe(request.agent);
    expect((watch.agent as unknown as { options: { secureContext?: unknown } }).options.secureContext).toBe(
      agentContext,
    );
    // Another KubeConfig with the same CA and client pair (a view of the same kubeconfig) takes
    // the same context, as client-go's transport cache shares one among equal TLS configs.
    const other = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    const otherConfig = api.kubeConfig();
    await otherConfig.applyToHTTPSOptions(other);
    expect(sharedSecureContext(otherConfig, other)).toBe(agentContext);
    // New material (here the CA bundle with one more line): a new context.
    const rotated = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    await kubeConfig.applyToHTTPSOptions(rotated);
    (rotated as { ca?: unknown }).ca = Buffer.concat([
      Buffer.from((rotated as { ca?: Buffer }).ca ?? ''),
      Buffer.from('\n'),
    ]);
    expect(sharedSecureContext(kubeConfig, rotated)).not.toBe(agentContext);
    // The shared context still verifies the server: requests over it are answered.
    for (let i = 0; i < 3; i++) {
      const answer = await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
      expect((answer as { kind?: string }).kind).toBe('NamespaceList');
    }
  });

  it("closes a kept connection before the server's announced keep-alive timeout, not as the server closes it", async () => {
    const server = createHttpServer((_request, response) => {
      response.setHeader('Content-Type', 'application/json');
      response.end('{}');
    });
    server.keepAliveTimeout = 3000; // announced as Keep-Alive: timeout=3
    const closedByClient: boolean[] = [];
    server.on('connection', (socket) => {
      let clientEnded = false;
      socket.on('end', () => {
        clientEnded = true;
      });
      socket.on('close', () => closedByClient.push(clientEnded));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    relay = server as unknown as Server;
    const kubeConfig = plainHttpKubeConfig(server);
    await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
    // The client's timer (2 s: the hint less 1 s) runs before the server's (3 s) in this process.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (closedByClient.length > 0) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    expect(closedByClient).toEqual([true]);
    await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
  });

  it("a proxy-url's requests share a kept proxy agent; a socks one keeps client-node's", async () => {
    const withProxy = (proxyUrl: string) => {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromOptions({
        clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', proxyUrl, skipTLSVerify: true }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      return kubeConfig;
    };
    const http = withProxy('http://127.0.0.1:3128');
    const first = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    const second = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    const agent = await applyConnectionOptions(http, first);
    await applyConnectionOptions(http, second);
    expect(agent?.constructor.name).toBe('HttpsProxyAgent');
    expect(first.agent).toBe(agent);
    expect(second.agent).toBe(agent);
    const socks = { method: 'GET' } as Parameters<typeof applyConnectionOptions>[1];
    expect(await applyConnectionOptions(withProxy('socks5://127.0.0.1:1080'), socks)).toBeUndefined();
    expect(socks.agent?.constructor.name).toBe('SocksProxyAgent');
  });
});

describe('lists and watches keep their connections for the next', { timeout: 30_000 }, () => {
  let api: ApiServer | undefined;
  let relay: Server | undefined;
  afterEach(async () => {
    relay?.close();
    await api?.close();
  });

  /** A TLS API server for this test, reached through a relay that counts the connections. */
  async function relayedServer() {
    api = await startApiServer({ tls: true });
    const counting = await startTcpRelay(api.port);
    relay = counting.server;
    return { counting, kubeConfig: throughRelay(api, counting.port) };
  }

  it('a watch the server ends at its timeoutSeconds leaves its connection to the next: a list and three renewals over one', async () => {
    const { counting, kubeConfig } = await relayedServer();
    await listAndRenewThrice(kubeConfig);
    expect(counting.connections()).toBe(1);
  });

  it('a watch stopped while it reads gives its connection up, and watches open at once hold one each', async () => {
    const { counting, kubeConfig } = await relayedServer();
    const lw = namespaces(kubeConfig);
    const page = await lw.list({}, new AbortController().signal);
    const stop = new AbortController();
    const long = lw.watch(watchOptions(page.resourceVersion, 60), () => {}, stop.signal);
    // A second watch while the first reads: a connection of its own.
    await lw.watch(watchOptions(page.resourceVersion, 1), () => {}, new AbortController().signal);
    expect(counting.connections()).toBe(2);
    stop.abort();
    await long;
    // The stopped watch's connection is gone; the ended one's is kept: the next takes it.
    await lw.watch(watchOptions(page.resourceVersion, 1), () => {}, new AbortController().signal);
    expect(counting.connections()).toBe(2);
    // With both taken (one reading, one ending), a third opens.
    const again = new AbortController();
    const reading = lw.watch(watchOptions(page.resourceVersion, 60), () => {}, again.signal);
    await lw.watch(watchOptions(page.resourceVersion, 1), () => {}, new AbortController().signal);
    expect(counting.connections()).toBe(3);
    again.abort();
    await reading;
  });

  it("leaves a list or watch to its own stop where a KubeConfig view puts a deadline on requests (the kubelet's heartbeat client)", async () => {
    const { counting, kubeConfig: base } = await relayedServer();
    const view = Object.create(base) as KubeConfig;
    view.applyToHTTPSOptions = async (options) => {
      await base.applyToHTTPSOptions(options);
      if ('method' in options) (options as { signal?: AbortSignal }).signal ??= AbortSignal.timeout(100);
    };
    const lw = namespaces(view);
    const never = new AbortController().signal;
    const page = await lw.list({}, never);
    // Ended by the server after 1 s, not cut at the view's 100 ms: its connection serves the next.
    await lw.watch(watchOptions(page.resourceVersion, 1), () => {}, never);
    await lw.watch(watchOptions(page.resourceVersion, 1), () => {}, never);
    expect(counting.connections()).toBe(1);
  });
});
