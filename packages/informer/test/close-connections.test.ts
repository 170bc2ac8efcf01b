import type { Server } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { type ApiServer, startApiServer, startTcpRelay } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllConnections, separateConnections } from '../src/connections-entry';
import { apiRequest } from '../src/index';
import { eventually } from './helpers';
import { namespaces, watchOptions } from './namespace-watches';
import { throughRelay } from './through-relay';

const listNamespaces = { method: 'GET' as const, path: '/api/v1/namespaces' };

describe('closeAllConnections', { timeout: 30_000 }, () => {
  let api: ApiServer | undefined;
  let relay: Server | undefined;
  afterEach(async () => {
    relay?.close();
    await api?.close();
    delete process.env.DISABLE_HTTP2;
  });

  async function relayedServer() {
    api = await startApiServer({ tls: true });
    const counting = await startTcpRelay(api.port);
    relay = counting.server;
    return { counting, kubeConfig: throughRelay(api, counting.port) };
  }

  /** Opens a watch on `kubeConfig` and waits until the server holds it; `ended` tells how it ended. */
  async function openWatch(kubeConfig: KubeConfig) {
    const lw = namespaces(kubeConfig);
    const page = await lw.list({}, new AbortController().signal);
    const before = api!.openWatches;
    const ended = lw
      .watch(watchOptions(page.resourceVersion, 600), () => {}, new AbortController().signal)
      .then(
        () => 'ended',
        (err: Error) => err.message,
      );
    await eventually(() => expect(api!.openWatches).toBe(before + 1));
    return { ended };
  }

  for (const protocol of ['HTTP/2', 'HTTP/1.1'] as const) {
    it(`${protocol}: ends the watches of the KubeConfig and its views at once, the next request connects again, another group's connection stays`, async () => {
      if (protocol === 'HTTP/1.1') process.env.DISABLE_HTTP2 = 'true';
      const { counting, kubeConfig } = await relayedServer();
      const view = Object.create(kubeConfig) as KubeConfig;
      const machine = throughRelay(api!, counting.port);
      separateConnections(machine);
      const ownWatch = await openWatch(kubeConfig);
      const viewWatch = await openWatch(view);
      const machineWatch = await openWatch(machine);
      const opened = counting.connections();
      closeAllConnections(view);

      // A watch the server cut short ends with an error its informer relists after.
      expect(await ownWatch.ended).not.toBe('ended');
      expect(await viewWatch.ended).not.toBe('ended');
      await eventually(() => expect(api!.openWatches).toBe(1));
      await apiRequest(kubeConfig, listNamespaces);
      expect(counting.connections()).toBe(opened + 1);
      // The separate group kept its connection and its watch.
      if (protocol === 'HTTP/2') {
        await apiRequest(machine, listNamespaces);
        expect(counting.connections()).toBe(opened + 1);
      }
      expect(api!.openWatches).toBe(1);
      closeAllConnections(machine);
      expect(await machineWatch.ended).not.toBe('ended');
    });
  }

  it('leaves another server alone, and does nothing for a KubeConfig with no server', async () => {
    const { counting, kubeConfig } = await relayedServer();
    const { ended } = await openWatch(kubeConfig);
    const elsewhere = throughRelay(api!, 1);
    closeAllConnections(elsewhere);
    const empty = Object.create(kubeConfig) as KubeConfig;
    empty.getCurrentCluster = () => null;
    closeAllConnections(empty);
    await apiRequest(kubeConfig, listNamespaces);
    expect(counting.connections()).toBe(1);
    expect(api!.openWatches).toBe(1);
    closeAllConnections(kubeConfig);
    expect(await ended).not.toBe('ended');
  });
});
