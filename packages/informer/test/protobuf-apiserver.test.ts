import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer, KubeListerWatcher } from '../src/index';
import { setRestClientMetrics } from '../src/rest-client-metrics-entry';
import { eventually } from './helpers';
import { recordResponseSizes } from './protobuf-fixtures';

/*
 * Against @nodeagent/testing's in-process API server, which answers protobuf for Services and
 * EndpointSlices as kube-apiserver does: a protobuf informer and a JSON one over the same objects
 * hold deep-equal stores, through the initial stream, a LIST and watched changes.
 */

type Obj = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } } & Record<
  string,
  unknown
>;

const SLICES = { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices' };
const SERVICES = { apiVersion: 'v1', plural: 'services' };

function service(i: number) {
  return {
    metadata: { name: `svc-${i}`, labels: { app: `a${i}` }, annotations: { note: '', ünï: 'çödé 日本' } },
    spec: {
      selector: { app: `a${i}` },
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'named', port: 81, targetPort: 'web', protocol: 'TCP' },
      ],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
    },
  };
}

function slice(i: number, addresses: string[]) {
  return {
    metadata: {
      name: `svc-${i}-abc`,
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Service', name: `svc-${i}`, uid: `u${i}`, controller: true },
      ],
    },
    addressType: 'IPv4',
    endpoints: addresses.map((address, j) => ({
      addresses: [address],
      conditions: { ready: j % 2 === 0, serving: true, terminating: false },
      nodeName: 'node-1',
      zone: '',
      targetRef: { kind: 'Pod', namespace: 'default', name: `p${i}-${j}`, uid: `pu${j}` },
      hints: { forZones: [{ name: 'z1' }] },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

let server: ApiServer | undefined;
const informers: Informer<Obj>[] = [];
afterEach(async () => {
  setRestClientMetrics(undefined);
  for (const i of informers.splice(0)) await i.stop();
  await server?.close();
  server = undefined;
});

function informer(resource: typeof SLICES, protobuf: boolean, watchList = true): Informer<Obj> {
  const inf = new Informer<Obj>({
    kubeConfig: server!.kubeConfig(),
    resource,
    watchList,
    transform: (o) => o, // keep managedFields: they must decode the same too
    ...(protobuf ? { protobuf: {} } : {}),
  });
  informers.push(inf);
  inf.start();
  return inf;
}

/**
 * The store by key, without a listed item's kind/apiVersion: upstream's lists (JSON or protobuf)
 * carry none on their items, the fake's JSON lists do; watch events carry them in both forms.
 */
const byKey = (inf: Informer<Obj>) =>
  Object.fromEntries(
    inf.list().map((o) => {
      const { kind: _kind, apiVersion: _apiVersion, ...rest } = o;
      return [`${o.metadata?.namespace}/${o.metadata?.name}`, rest];
    }),
  );
const withoutTypeMeta = (items: Obj[]) => items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);

describe('protobuf against the in-process API server', { timeout: 30_000 }, () => {
  it('EndpointSlices and Services: protobuf and JSON informers hold the same objects, through changes', async () => {
    server = await startApiServer();
    const sliceType = server.resource('discovery.k8s.io/v1', 'endpointslices');
    const svcType = server.resource('v1', 'services');
    for (let i = 0; i < 5; i++) {
      server.registry.create(svcType, 'default', service(i));
      server.registry.create(sliceType, 'default', slice(i, [`10.0.${i}.1`, `10.0.${i}.2`]));
    }
    const pairs = [
      [informer(SLICES, true), informer(SLICES, false)],
      [informer(SERVICES, true), informer(SERVICES, false)],
      [informer(SLICES, true, false), informer(SLICES, false, false)],
    ] as const;
    for (const [p, j] of pairs) {
      await Promise.all([p.waitForSync(), j.waitForSync()]);
      expect(p.list()).toHaveLength(5);
      expect(byKey(p)).toStrictEqual(byKey(j));
    }
    server.registry.update(sliceType, 'default', 'svc-1-abc', {
      ...server.registry.get(sliceType, 'default', 'svc-1-abc'),
      endpoints: [{ addresses: ['10.9.9.9'], conditions: {} }],
    });
    server.registry.delete(sliceType, 'default', 'svc-2-abc');
    server.registry.create(sliceType, 'default', slice(7, ['10.0.7.1']));
    for (const [p, j] of pairs.filter(([p]) => p !== pairs[1][0])) {
      await eventually(() => {
        expect(p.get('default/svc-1-abc')?.endpoints).toEqual([{ addresses: ['10.9.9.9'], conditions: {} }]);
        expect(p.get('default/svc-2-abc')).toBeUndefined();
        expect(p.get('default/svc-7-abc')?.endpoints).toHaveLength(1);
        expect(byKey(p)).toStrictEqual(byKey(j));
      });
    }
    // Proof the watch was protobuf: an empty slice has no bytes on that wire, so it decodes to
    // Go's nil (`null`), where the fake's JSON echoes the `[]` it was given.
    server.registry.create(sliceType, 'default', slice(8, []));
    const [p, j] = pairs[0];
    await eventually(() => expect(j.get('default/svc-8-abc')?.endpoints).toEqual([]));
    await eventually(() => expect(p.get('default/svc-8-abc')?.endpoints).toBeNull());
  });

  it('a LIST is read as protobuf: fewer bytes than the JSON list of the same slices', async () => {
    server = await startApiServer();
    const sliceType = server.resource('discovery.k8s.io/v1', 'endpointslices');
    for (let i = 0; i < 3; i++)
      server.registry.create(sliceType, 'default', slice(i, ['10.1.1.1', '10.1.1.2']));
    const sizes = recordResponseSizes();
    const signal = new AbortController().signal;
    const proto = await new KubeListerWatcher<Obj>(server.kubeConfig(), SLICES, { protobuf: {} }).list(
      {},
      signal,
    );
    const json = await new KubeListerWatcher<Obj>(server.kubeConfig(), SLICES).list({}, signal);
    expect(proto.items).toStrictEqual(withoutTypeMeta(json.items));
    expect(proto.resourceVersion).toBe(json.resourceVersion);
    expect(sizes).toHaveLength(2);
    expect(sizes[0]!).toBeLessThan(sizes[1]! * 0.8);
  });

  it('a failed protobuf list is the same ApiStatusError as the JSON one', async () => {
    server = await startApiServer();
    const signal = new AbortController().signal;
    const kc = server.kubeConfig();
    const opts = { continue: 'not-a-token', limit: 1 };
    const pErr = await new KubeListerWatcher<Obj>(kc, SLICES, { protobuf: {} })
      .list(opts, signal)
      .catch((e) => e);
    const jErr = await new KubeListerWatcher<Obj>(kc, SLICES).list(opts, signal).catch((e) => e);
    expect(jErr).toBeInstanceOf(Error);
    expect({ ...pErr, message: pErr.message }).toStrictEqual({ ...jErr, message: jErr.message });
  });
});
