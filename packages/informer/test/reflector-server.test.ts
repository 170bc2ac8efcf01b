import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer, InformerStoppedError, WatchInactivityError, type Wire } from '../src/index';
import { eventually, podBody, serverState } from './helpers';

const fastBackoff = { initialMs: 5, maxMs: 50 };

describe('Informer against the in-process API server', { timeout: 30_000 }, () => {
  let server: ApiServer;
  const informers: Informer<never>[] = [];
  async function start(
    opts: Partial<ConstructorParameters<typeof Informer<Wire<V1Pod>>>[0]> = {},
  ): Promise<Informer<Wire<V1Pod>>> {
    const inf = new Informer<Wire<V1Pod>>({
      kubeConfig: server.kubeConfig(),
      resource: { apiVersion: 'v1', plural: 'pods' },
      backoff: fastBackoff,
      ...opts,
    });
    informers.push(inf as unknown as Informer<never>);
    inf.start();
    await inf.waitForSync();
    return inf;
  }
  afterEach(async () => {
    for (const i of informers.splice(0)) await i.stop();
    await server?.close();
  });

  it('lists in pages, then follows the watch with a field selector', async () => {
    server = await startApiServer();
    const pods = server.resource('v1', 'pods');
    for (let i = 0; i < 7; i++)
      server.registry.create(pods, 'default', podBody(`p${i}`, i % 2 ? 'n1' : 'n2'));
    const inf = await start({ pageSize: 2, fieldSelector: 'spec.nodeName=n1' });
    expect(
      inf
        .list()
        .map((p) => p.metadata?.name)
        .sort(),
    ).toEqual(['p1', 'p3', 'p5']);
    const added: string[] = [];
    const deleted: string[] = [];
    inf.onAdd((p) => added.push(p.metadata?.name ?? ''));
    inf.onDelete((p) => deleted.push(p.metadata?.name ?? ''));
    server.registry.create(pods, 'default', podBody('new-on-n1', 'n1'));
    server.registry.create(pods, 'default', podBody('new-on-n2', 'n2'));
    server.registry.delete(pods, 'default', 'p1', { gracePeriodSeconds: 0 });
    await eventually(() => expect(deleted).toEqual(['p1']));
    expect(added).toEqual(['new-on-n1']);
    expect(inf.store.keys().sort()).toEqual(['default/new-on-n1', 'default/p3', 'default/p5']);
  });

  it('relists after the history is compacted and reports objects deleted meanwhile', async () => {
    server = await startApiServer({ bookmarkIntervalMs: 60_000 });
    const pods = server.resource('v1', 'pods');
    server.registry.create(pods, 'default', podBody('keep', 'n1'));
    server.registry.create(pods, 'default', podBody('gone', 'n1'));
    const inf = await start();
    const deleted: string[] = [];
    inf.onDelete((p) => deleted.push(p.metadata?.name ?? ''));
    // Disconnect, change things, compact: the resumed watch gets 410 and must relist.
    await eventually(() => expect(server.openWatches).toBe(1));
    server.faults.failNext(1, 503, { match: (_m, p) => p.endsWith('/pods') });
    server.faults.dropWatches();
    server.registry.delete(pods, 'default', 'gone', { gracePeriodSeconds: 0 });
    server.registry.create(pods, 'default', podBody('fresh', 'n1'));
    server.faults.compactHistory();
    await eventually(() => expect(inf.store.keys().sort()).toEqual(['default/fresh', 'default/keep']));
    expect(deleted).toEqual(['gone']);
    expect(inf.stats.expired).toBeGreaterThanOrEqual(1);
    expect(inf.stats.lists).toBeGreaterThanOrEqual(2);
  });

  it('lists and watches over HTTPS with the kubeconfig CA', async () => {
    server = await startApiServer({ tls: true });
    const pods = server.resource('v1', 'pods');
    server.registry.create(pods, 'default', podBody('tls-a', 'n1'));
    const inf = await start();
    expect(inf.get('default/tls-a')).toBeDefined();
    server.registry.create(pods, 'default', podBody('tls-b', 'n1'));
    await eventually(() => expect(inf.get('default/tls-b')).toBeDefined());
  });

  it('resumes a dropped watch from the last resourceVersion without relisting', async () => {
    server = await startApiServer();
    const pods = server.resource('v1', 'pods');
    const inf = await start();
    server.registry.create(pods, 'default', podBody('a', 'n1'));
    await eventually(() => expect(inf.get('default/a')).toBeDefined());
    await eventually(() => expect(server.openWatches).toBe(1));
    server.faults.dropWatches();
    server.registry.create(pods, 'default', podBody('b', 'n1'));
    await eventually(() => expect(inf.get('default/b')).toBeDefined());
    expect(inf.stats.lists).toBe(1);
    expect(inf.stats.watches).toBeGreaterThanOrEqual(2);
  });

  it('keeps retrying through 500/429 answers and never gives up', async () => {
    server = await startApiServer();
    const pods = server.resource('v1', 'pods');
    server.registry.create(pods, 'default', podBody('a', 'n1'));
    server.faults.failNext(3, 500);
    server.faults.failNext(2, 429, { retryAfterSeconds: 0 });
    const errors: unknown[] = [];
    const inf = await start({ onError: (e) => errors.push(e) });
    expect(inf.get('default/a')).toBeDefined();
    expect(errors.length).toBe(5);
    expect(inf.stats.errors).toBe(5);
  });

  it('detects a half-open watch with the inactivity timeout', async () => {
    server = await startApiServer({ bookmarkIntervalMs: 60_000 });
    const pods = server.resource('v1', 'pods');
    const errors: unknown[] = [];
    const inf = await start({ inactivityTimeoutMs: 150, onError: (e) => errors.push(e) });
    await eventually(() => expect(server.openWatches).toBe(1));
    server.faults.stallWatches();
    server.registry.create(pods, 'default', podBody('late', 'n1'));
    await eventually(() => expect(inf.get('default/late')).toBeDefined());
    expect(errors.some((e) => e instanceof WatchInactivityError)).toBe(true);
  });

  it('renews watches the server times out, via timeoutSeconds', async () => {
    server = await startApiServer();
    const pods = server.resource('v1', 'pods');
    const inf = await start({ watchTimeoutSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1300));
    server.registry.create(pods, 'default', podBody('after-rotation', 'n1'));
    await eventually(() => expect(inf.get('default/after-rotation')).toBeDefined());
    expect(inf.stats.watches).toBeGreaterThanOrEqual(2);
    expect(inf.stats.errors).toBe(0);
    expect(inf.stats.bookmarks).toBeGreaterThanOrEqual(1);
  });

  it('keeps retrying while the server is unreachable; stop() rejects a pending waitForSync', async () => {
    server = await startApiServer();
    const kubeConfig = server.kubeConfig();
    await server.close();
    const errors: unknown[] = [];
    const inf = new Informer<Wire<V1Pod>>({
      kubeConfig,
      resource: { apiVersion: 'v1', plural: 'pods' },
      backoff: fastBackoff,
      onError: (e) => errors.push(e),
    });
    inf.start();
    const synced = inf.waitForSync();
    await eventually(() => expect(errors.length).toBeGreaterThanOrEqual(3));
    expect(inf.hasSynced()).toBe(false);
    await inf.stop();
    await expect(synced).rejects.toBeInstanceOf(InformerStoppedError);
  });

  it('delivers typed updates and a delta view for services', async () => {
    server = await startApiServer();
    const svcs = server.resource('v1', 'services');
    const inf = new Informer<Wire<V1Service>>({
      kubeConfig: server.kubeConfig(),
      resource: { apiVersion: 'v1', plural: 'services' },
      backoff: fastBackoff,
      trackDeltas: true,
    });
    informers.push(inf as unknown as Informer<never>);
    inf.start();
    await inf.waitForSync();
    inf.takeDeltas();
    const updates: [string | undefined, string | undefined][] = [];
    inf.onUpdate((o, n) => updates.push([o.spec?.ports?.[0]?.name, n.spec?.ports?.[0]?.name]));
    server.registry.create(svcs, 'default', {
      metadata: { name: 's' },
      spec: { ports: [{ name: 'a', port: 80 }] },
    });
    await eventually(() => expect(inf.get('default/s')).toBeDefined());
    const created = server.registry.get(svcs, 'default', 's');
    server.registry.update(svcs, 'default', 's', {
      ...created,
      spec: { ...(created.spec as object), ports: [{ name: 'b', port: 80 }] },
    });
    await eventually(() => expect(updates).toEqual([['a', 'b']]));
    const deltas = inf.takeDeltas();
    expect(deltas).toHaveLength(1);
    expect(deltas[0]?.previous).toBeUndefined();
    expect(deltas[0]?.current?.spec?.ports?.[0]?.name).toBe('b');
    expect(serverState(server, 'v1', 'services').get('default/s')).toBe(
      inf.get('default/s')?.metadata?.resourceVersion,
    );
  });
});
