import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClusterWatch, type ProxyHandler, ProxyState, watchCluster } from '../src/index';
import { service, slice } from './fixtures';
import { until } from './real/cluster-fixtures';

// Issue #54: with clientConnection.contentType protobuf (upstream's default) the Service and
// EndpointSlice informers read protobuf. What the proxier receives, and so what it computes,
// must be what the JSON path gives, less the endpoint fields the protobuf decode leaves out
// (targetRef, deprecatedTopology: the proxier never reads them).

let api: ApiServer | undefined;
const watches: ClusterWatch[] = [];

afterEach(async () => {
  for (const w of watches.splice(0)) await w.stop();
  await api?.close();
  api = undefined;
});

/**
 * Every event with a copy of its object (services and slices apart: the two informers interleave
 * freely), and a state. Copies, compared as values: the protobuf objects' keys come in the Go
 * structs' order, as a real server's JSON gives them, the in-process server's JSON in its own.
 */
function recorder() {
  const state = new ProxyState('IPv4', 'node-a');
  const seen = { services: [] as unknown[], slices: [] as unknown[] };
  const text = (kind: string, o: unknown) => [kind, structuredClone(o)];
  const handler: ProxyHandler = {
    onServiceAdd: (s) => {
      seen.services.push(text('add', s));
      state.onService(undefined, s);
    },
    onServiceUpdate: (o, s) => {
      seen.services.push(text('update', s));
      state.onService(o, s);
    },
    onServiceDelete: (s) => {
      seen.services.push(text('delete', s));
      state.onService(s, undefined);
    },
    onServicesSynced: () => undefined,
    onEndpointSliceAdd: (s) => {
      seen.slices.push(text('add', s));
      state.onEndpointSlice(s, false);
    },
    onEndpointSliceUpdate: (_o, s) => {
      seen.slices.push(text('update', s));
      state.onEndpointSlice(s, false);
    },
    onEndpointSliceDelete: (s) => {
      seen.slices.push(text('delete', { metadata: s.metadata }));
      state.onEndpointSlice(s, true);
    },
    onEndpointSlicesSynced: () => undefined,
    onNode: () => undefined,
  };
  return { state, seen, handler };
}

/** A slice as the protobuf decode gives it: without its endpoints' targetRef and deprecatedTopology. */
function withoutOmitted(event: unknown): unknown {
  const [kind, object] = structuredClone(event) as [string, Wire<V1EndpointSlice>];
  for (const ep of object.endpoints ?? []) {
    delete (ep as { targetRef?: unknown }).targetRef;
    delete (ep as { deprecatedTopology?: unknown }).deprecatedTopology;
  }
  return [kind, object];
}

const hasTargetRef = (event: unknown) => JSON.stringify(event).includes('"targetRef"');

function populate(server: ApiServer): void {
  const services = server.resource('v1', 'services');
  const slices = server.resource('discovery.k8s.io/v1', 'endpointslices');
  const create = (s: Wire<V1Service>) => server.registry.create(services, 'default', s);
  create(
    service('web', {
      clusterIP: '10.96.0.20',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 as never },
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' as never },
      ],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      externalIPs: ['192.0.2.7'],
      internalTrafficPolicy: 'Local',
      trafficDistribution: 'PreferClose',
    }),
  );
  create(service('np', { type: 'NodePort', clusterIP: '10.96.0.21', externalTrafficPolicy: 'Local' }));
  create(
    service(
      'lb',
      { type: 'LoadBalancer', clusterIP: '10.96.0.22', loadBalancerSourceRanges: ['203.0.113.0/24'] },
      { loadBalancer: { ingress: [{ ip: '198.51.100.9', ipMode: 'VIP' }] } },
    ),
  );
  const withTargetRefs = (s: Wire<V1EndpointSlice>) => ({
    ...s,
    endpoints: s.endpoints.map((ep, j) => ({
      ...ep,
      targetRef: { kind: 'Pod', namespace: 'default', name: `pod-${j}`, uid: `uid-${j}` },
      deprecatedTopology: { 'topology.kubernetes.io/zone': 'zone-a' },
    })),
  });
  server.registry.create(
    slices,
    'default',
    withTargetRefs(
      slice(
        'web',
        [
          { ip: '10.244.0.1', node: 'node-a', zone: 'zone-a', zoneHints: ['zone-a'], nodeHints: ['node-a'] },
          { ip: '10.244.0.2', node: 'node-b', ready: false, serving: true, terminating: true },
          { ip: '10.244.0.3', ready: false },
        ],
        {
          name: 'web-a',
          ports: [
            { name: 'http', port: 8080, protocol: 'TCP' },
            { name: 'dns', port: 5353, protocol: 'UDP' },
          ],
          annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:00Z' },
        },
      ),
    ),
  );
  server.registry.create(
    slices,
    'default',
    withTargetRefs(slice('np', [{ ip: '10.244.1.1', node: 'node-a' }])),
  );
  server.registry.create(slices, 'default', slice('lb', [{ ip: '10.244.2.1', node: 'node-c' }]));
}

describe('watchCluster over protobuf (clientConnection.contentType)', () => {
  it('gives the proxier what the JSON path gives, less the endpoint fields it never reads', async () => {
    api = await startApiServer();
    populate(api);
    const json = recorder();
    const protobuf = recorder();
    for (const [r, useProtobuf] of [
      [json, false],
      [protobuf, true],
    ] as const) {
      const w = watchCluster({
        kubeConfig: api.kubeConfig(),
        nodeName: 'node-a',
        handler: r.handler,
        protobuf: useProtobuf,
      });
      watches.push(w);
      await Promise.all([w.services.waitForSync(), w.endpointSlices.waitForSync()]);
    }

    // Changes after the initial state: a slice updated, a Service and a slice deleted.
    const slices = api.resource('discovery.k8s.io/v1', 'endpointslices');
    const np = api.registry.get(slices, 'default', 'np-abc') as Wire<V1EndpointSlice>;
    api.registry.update(slices, 'default', 'np-abc', {
      ...np,
      endpoints: [
        ...np.endpoints,
        { addresses: ['10.244.1.2'], conditions: { ready: true }, nodeName: 'node-b' },
      ],
    });
    api.registry.delete(api.resource('v1', 'services'), 'default', 'lb');
    api.registry.delete(slices, 'default', 'lb-abc');
    const settled = (r: ReturnType<typeof recorder>) =>
      r.seen.services.length === 4 && r.seen.slices.length === 5;
    expect(await until(() => settled(json) && settled(protobuf), { timeoutMs: 10_000, intervalMs: 10 })).toBe(
      true,
    );

    // The protobuf path really was taken: its slices came without targetRef, the JSON ones with.
    expect(json.seen.slices.some(hasTargetRef)).toBe(true);
    expect(protobuf.seen.slices.some(hasTargetRef)).toBe(false);

    expect(protobuf.seen.services).toEqual(json.seen.services);
    expect(protobuf.seen.slices).toEqual(json.seen.slices.map(withoutOmitted));
    const a = json.state.snapshot();
    const b = protobuf.state.snapshot();
    expect(new Map(b.services)).toEqual(new Map(a.services));
    expect(new Map(b.endpoints)).toEqual(new Map(a.endpoints));
    expect([...a.endpoints.keys()].sort()).toEqual([
      'default/np:http',
      'default/web:dns',
      'default/web:http',
    ]);
  });
});
