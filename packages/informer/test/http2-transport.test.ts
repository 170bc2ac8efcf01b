import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Server } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { type ApiServer, startApiServer, startTcpRelay } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTP2_STREAM_CHANNEL, separateConnections } from '../src/connections-entry';
import { apiRequest, type WatchEvent } from '../src/index';
import { eventually } from './helpers';
import { listAndRenewThrice, namespaces, watchOptions } from './namespace-watches';
import { throughRelay } from './through-relay';

const namespace = (name: string) => ({
  method: 'POST' as const,
  path: '/api/v1/namespaces',
  body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
});

describe('over HTTPS every request is a stream on one HTTP/2 connection', { timeout: 30_000 }, () => {
  let api: ApiServer | undefined;
  let relay: Server | undefined;
  afterEach(async () => {
    relay?.close();
    await api?.close();
    delete process.env.HTTP2_READ_IDLE_TIMEOUT_SECONDS;
    delete process.env.HTTP2_PING_TIMEOUT_SECONDS;
  });

  /** A TLS API server for this test, reached through a relay that counts the connections. */
  async function relayedServer(http2 = true) {
    api = await startApiServer({ tls: true, http2 });
    const counting = await startTcpRelay(api.port);
    relay = counting.server;
    return { counting, kubeConfig: throughRelay(api, counting.port) };
  }

  it('requests, a list and watches open at once, of two KubeConfigs with the same TLS material, share one connection', async () => {
    const { counting, kubeConfig } = await relayedServer();
    const other = throughRelay(api!, counting.port);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        apiRequest(i % 2 ? kubeConfig : other, { method: 'GET', path: '/api/v1/namespaces' }),
      ),
    );
    expect(answers.every((a) => (a as { kind?: string }).kind === 'NamespaceList')).toBe(true);
    const lw = namespaces(kubeConfig);
    const page = await lw.list({}, new AbortController().signal);
    const stop = new AbortController();
    const seen: string[][] = [[], [], []];
    const watches = seen.map((names) =>
      lw.watch(
        watchOptions(page.resourceVersion, 60),
        (e: WatchEvent<{ metadata?: { name?: string } }>) => {
          names.push(e.object.metadata?.name ?? '');
        },
        stop.signal,
      ),
    );
    await apiRequest(other, namespace('h2-one'));
    await eventually(() => expect(seen.every((names) => names.includes('h2-one'))).toBe(true));
    expect(counting.connections()).toBe(1);
    stop.abort();
    await Promise.all(watches);
  });

  it('a KubeConfig given separate connections, and its views, keep to a connection of their own', async () => {
    const { counting, kubeConfig } = await relayedServer();
    const machine = throughRelay(api!, counting.port);
    separateConnections(machine);
    const view = Object.create(machine) as KubeConfig;
    await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
    expect(counting.connections()).toBe(1);
    await apiRequest(machine, { method: 'GET', path: '/api/v1/namespaces' });
    await apiRequest(view, { method: 'GET', path: '/api/v1/namespaces' });
    expect(counting.connections()).toBe(2);
  });

  it('a watch stopped by its caller ends its own stream: the others on the connection go on', async () => {
    const { counting, kubeConfig } = await relayedServer();
    const lw = namespaces(kubeConfig);
    const page = await lw.list({}, new AbortController().signal);
    const first = new AbortController();
    const second = new AbortController();
    const names: string[] = [];
    const stopped = lw.watch(watchOptions(page.resourceVersion, 60), () => {}, first.signal);
    const going = lw.watch(
      watchOptions(page.resourceVersion, 60),
      (e: WatchEvent<{ metadata?: { name?: string } }>) => {
        names.push(e.object.metadata?.name ?? '');
      },
      second.signal,
    );
    await eventually(() => expect(api!.openWatches).toBe(2));
    first.abort();
    await stopped;
    await eventually(() => expect(api!.openWatches).toBe(1));
    await apiRequest(kubeConfig, namespace('after-stop'));
    await eventually(() => expect(names).toContain('after-stop'));
    expect(counting.connections()).toBe(1);
    second.abort();
    await going;
  });

  it('a watch the server ends leaves the connection to the next: a list and three renewals over one', async () => {
    const { counting, kubeConfig } = await relayedServer();
    await listAndRenewThrice(kubeConfig);
    expect(counting.connections()).toBe(1);
  });

  it('falls back to HTTP/1.1 when the server offers no h2, asking once', async () => {
    const { counting, kubeConfig } = await relayedServer(false);
    const streams: unknown[] = [];
    const listener = (message: unknown) => streams.push(message);
    subscribe(HTTP2_STREAM_CHANNEL, listener);
    try {
      for (let i = 0; i < 5; i++) await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
      const lw = namespaces(kubeConfig);
      const page = await lw.list({}, new AbortController().signal);
      await lw.watch(watchOptions(page.resourceVersion, 1), () => {}, new AbortController().signal);
    } finally {
      unsubscribe(HTTP2_STREAM_CHANNEL, listener);
    }
    expect(streams).toHaveLength(0);
    // The handshake that heard http/1.1, the requests' kept connection and the streams' one.
    expect(counting.connections()).toBe(3);
    await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
    expect(counting.connections()).toBe(3);
  });

  it('sends a request the server refused unprocessed (REFUSED_STREAM) once more, as Go does', async () => {
    const { kubeConfig } = await relayedServer();
    let seen = 0;
    const stop = api!.observeRequests((request) => {
      const stream = (request as unknown as { stream?: ServerHttp2Stream }).stream;
      if (seen++ === 0) stream?.close(constants.NGHTTP2_REFUSED_STREAM);
    });
    try {
      const list = await apiRequest<{ kind?: string }>(kubeConfig, {
        method: 'GET',
        path: '/api/v1/namespaces',
      });
      expect(list.kind).toBe('NamespaceList');
      expect(seen).toBe(2);
    } finally {
      stop();
    }
  });

  it('publishes each stream with the connection under it, the same one for every request', async () => {
    const { kubeConfig } = await relayedServer();
    const seen: { headers: Record<string, unknown>; connection: unknown }[] = [];
    const listener = (message: unknown) => seen.push(message as (typeof seen)[number]);
    subscribe(HTTP2_STREAM_CHANNEL, listener);
    try {
      await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
      await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/nodes' });
    } finally {
      unsubscribe(HTTP2_STREAM_CHANNEL, listener);
    }
    expect(seen.map((s) => s.headers[':path'])).toEqual(['/api/v1/namespaces', '/api/v1/nodes']);
    expect(seen[0]!.headers['user-agent']).toMatch(/kubernetes\/unknown$/);
    expect(seen[0]!.headers.authorization).toBe('Bearer nodeagent-test-token');
    expect(seen[1]!.connection).toBe(seen[0]!.connection);
  });

  it('gives up a connection whose ping goes unanswered (HTTP2_*_TIMEOUT_SECONDS), ending its watch, and opens another', async () => {
    process.env.HTTP2_READ_IDLE_TIMEOUT_SECONDS = '1';
    process.env.HTTP2_PING_TIMEOUT_SECONDS = '1';
    const { counting, kubeConfig } = await relayedServer();
    const lw = namespaces(kubeConfig);
    const page = await lw.list({}, new AbortController().signal);
    const watch = lw.watch(watchOptions(page.resourceVersion, 600), () => {}, new AbortController().signal);
    await eventually(() => expect(api!.openWatches).toBe(1));
    counting.freeze();
    // The ping's timeout ends the session and the watch with it: a WatchDroppedError when the
    // watch's response had arrived, the session's own error when the freeze came first (a loaded
    // machine can be that slow to deliver the response headers).
    await expect(watch).rejects.toThrow(/watch connection dropped|http2: client connection lost/);
    await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
    expect(counting.connections()).toBe(2);
  });
});
