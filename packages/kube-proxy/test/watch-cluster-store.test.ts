import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClusterWatch,
  type ProxyHandler,
  ProxyState,
  snapshotFromObjects,
  watchCluster,
} from '../src/index';
import { type EndpointSpec, service, slice } from './fixtures';
import { until } from './real/cluster-fixtures';

// Issue #54: watchCluster's EndpointSlice cache keeps slices without their endpoints (the
// informer's `retain`); the change tracker keeps each slice's endpoints in its own form. The
// endpoints the proxy computes must still be what the whole slices give, through adds, an
// update of one slice of a two-slice Service, and deletions.

let api: ApiServer | undefined;
let watch: ClusterWatch | undefined;

afterEach(async () => {
  await watch?.stop();
  await api?.close();
  api = undefined;
  watch = undefined;
});

/** A handler folding every event into `state`, counting slice events and keeping update's old slices. */
function stateHandler(state: ProxyState) {
  const seen = { sliceEvents: 0, oldSlices: [] as Wire<V1EndpointSlice>[], synced: false };
  const handler: ProxyHandler = {
    onServiceAdd: (s) => state.onService(undefined, s),
    onServiceUpdate: (o, s) => state.onService(o, s),
    onServiceDelete: (s) => state.onService(s, undefined),
    onServicesSynced: () => undefined,
    onEndpointSliceAdd: (s) => {
      seen.sliceEvents++;
      state.onEndpointSlice(s, false);
    },
    onEndpointSliceUpdate: (o, s) => {
      seen.sliceEvents++;
      seen.oldSlices.push(o);
      state.onEndpointSlice(s, false);
    },
    onEndpointSliceDelete: (s) => {
      seen.sliceEvents++;
      state.onEndpointSlice(s, true);
    },
    onEndpointSlicesSynced: () => {
      seen.synced = true;
    },
    onNode: () => undefined,
  };
  return { seen, handler };
}

describe("watchCluster's EndpointSlice cache without endpoints", () => {
  it('gives the endpoints of the whole slices through adds, an update and deletions', async () => {
    api = await startApiServer();
    const services = api.resource('v1', 'services');
    const slices = api.resource('discovery.k8s.io/v1', 'endpointslices');
    const local: EndpointSpec = { ip: '10.244.0.1', node: 'node-a' };
    api.registry.create(services, 'default', service('web'));
    api.registry.create(services, 'default', service('db', { clusterIP: '10.96.0.11' }));
    // web has two slices, one address in both (slice churn): the first slice by name wins.
    api.registry.create(
      slices,
      'default',
      slice('web', [local, { ip: '10.244.0.2', ready: false }], { name: 'web-a' }),
    );
    api.registry.create(
      slices,
      'default',
      slice('web', [{ ip: '10.244.0.3' }, { ip: '10.244.0.2' }], { name: 'web-b' }),
    );
    api.registry.create(slices, 'default', slice('db', [{ ip: '10.244.1.1' }], { name: 'db-a' }));

    const state = new ProxyState('IPv4', 'node-a');
    const { seen, handler } = stateHandler(state);
    watch = watchCluster({ kubeConfig: api.kubeConfig(), nodeName: 'node-a', handler });
    await Promise.all([watch.services.waitForSync(), watch.endpointSlices.waitForSync()]);

    /** The endpoints map of a snapshot made from the server's objects as they are, whole. */
    const fromWholeObjects = () =>
      snapshotFromObjects({
        family: 'IPv4',
        nodeName: 'node-a',
        services: api!.registry.list(services, undefined) as never,
        endpointSlices: api!.registry.list(slices, undefined) as never,
      }).endpoints;
    const expectSameEndpoints = () => {
      const ours = state.snapshot().endpoints;
      expect(new Map(ours)).toEqual(new Map(fromWholeObjects()));
      return ours;
    };

    const first = expectSameEndpoints();
    expect(first.get('default/web:http')?.map((e) => [e.endpoint, e.ready, e.isLocal])).toEqual([
      ['10.244.0.1:8080', true, true],
      ['10.244.0.2:8080', false, false],
      ['10.244.0.3:8080', true, false],
    ]);
    // What the cache holds: every slice, none with endpoints.
    expect(
      watch.endpointSlices
        .list()
        .map((s) => [s.metadata?.name, s.endpoints.length])
        .sort(),
    ).toEqual([
      ['db-a', 0],
      ['web-a', 0],
      ['web-b', 0],
    ]);

    // One slice of web changes: the other's endpoints come from the tracker, not from a slice.
    const webA = api.registry.get(slices, 'default', 'web-a') as Wire<V1EndpointSlice>;
    api.registry.update(slices, 'default', 'web-a', { ...webA, endpoints: [{ addresses: ['10.244.0.9'] }] });
    expect(await until(() => seen.sliceEvents === 4, { timeoutMs: 10_000, intervalMs: 10 })).toBe(true);
    expect(seen.oldSlices.map((s) => s.endpoints.length)).toEqual([0]);
    const updated = expectSameEndpoints();
    expect(updated.get('default/web:http')?.map((e) => e.endpoint)).toEqual([
      '10.244.0.2:8080',
      '10.244.0.3:8080',
      '10.244.0.9:8080',
    ]);

    api.registry.delete(slices, 'default', 'web-b');
    api.registry.delete(slices, 'default', 'db-a');
    expect(await until(() => seen.sliceEvents === 6, { timeoutMs: 10_000, intervalMs: 10 })).toBe(true);
    const deleted = expectSameEndpoints();
    expect(deleted.get('default/web:http')?.map((e) => e.endpoint)).toEqual(['10.244.0.9:8080']);
    expect(deleted.has('default/db:http')).toBe(false);
  });
});

describe("watchCluster's Service cache (retainedService)", () => {
  it("keeps the retained form and gives the whole objects' service ports through an update and a deletion", async () => {
    api = await startApiServer();
    const services = api.resource('v1', 'services');
    api.registry.create(services, 'default', service('web', { selector: { app: 'web' } }));
    api.registry.create(services, 'default', service('db', { clusterIP: '10.96.0.11' }));
    const state = new ProxyState('IPv4', 'node-a');
    const events: string[] = [];
    const { handler } = stateHandler(state);
    watch = watchCluster({
      kubeConfig: api.kubeConfig(),
      nodeName: 'node-a',
      handler: {
        ...handler,
        onServiceUpdate: (o, s) => {
          events.push(`update ${o.spec?.ports?.[0]?.port}->${s.spec?.ports?.[0]?.port}`);
          handler.onServiceUpdate(o, s);
        },
        onServiceDelete: (s) => {
          events.push(`delete ${s.metadata?.name}`);
          handler.onServiceDelete(s);
        },
      },
    });
    await watch.services.waitForSync();
    const fromWholeObjects = () =>
      snapshotFromObjects({
        family: 'IPv4',
        nodeName: 'node-a',
        services: api!.registry.list(services, undefined) as never,
        endpointSlices: [],
      }).services;
    const expectSameServices = () => {
      const ours = state.snapshot().services;
      expect(new Map(ours)).toEqual(new Map(fromWholeObjects()));
      return ours;
    };
    expect([...expectSameServices().keys()].sort()).toEqual(['default/db:http', 'default/web:http']);
    // The cache holds the retained form: no selector, no target port, the resourceVersion kept.
    const cached = watch.services.list().find((s) => s.metadata?.name === 'web')!;
    expect(cached.spec?.selector).toBeUndefined();
    expect(cached.spec?.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP', nodePort: undefined }]);
    expect(cached.metadata?.resourceVersion).toBeTruthy();

    // An update's old Service is the retained one; the change is the whole objects' change.
    const web = api.registry.get(services, 'default', 'web') as Wire<V1Service>;
    const [port] = web.spec!.ports!;
    api.registry.update(services, 'default', 'web', {
      ...web,
      spec: { ...web.spec, ports: [{ ...port!, port: 81 }], sessionAffinity: 'ClientIP' },
    });
    expect(await until(() => events.length === 1, { timeoutMs: 10_000, intervalMs: 10 })).toBe(true);
    expect(events).toEqual(['update 80->81']);
    expect(expectSameServices().get('default/web:http')).toMatchObject({
      port: 81,
      stickyMaxAgeSeconds: 10800,
    });

    api.registry.delete(services, 'default', 'db');
    expect(await until(() => events.length === 2, { timeoutMs: 10_000, intervalMs: 10 })).toBe(true);
    expect(events[1]).toBe('delete db');
    expect([...expectSameServices().keys()]).toEqual(['default/web:http']);
  });
});
