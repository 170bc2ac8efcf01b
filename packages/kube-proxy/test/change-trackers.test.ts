import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyEndpointsChanges,
  type EndpointInfo,
  EndpointsChangeTracker,
  endpointsFromSlices,
  ProxyState,
  ServiceChangeTracker,
  snapshotFromObjects,
} from '../src/index';
import { service, slice } from './fixtures';

describe('ServiceChangeTracker', () => {
  it('collapses add+update into one change and drops add+delete', () => {
    const t = new ServiceChangeTracker('IPv4');
    const v1 = service('web');
    const v2 = service('web', { ports: [{ name: 'http', port: 81 }] });
    expect(t.update(undefined, v1)).toBe(true);
    t.update(v1, v2);
    expect(t.pendingCount()).toBe(1);
    const changes = t.checkout();
    expect(changes.get('default/web')?.previous.size).toBe(0);
    expect(changes.get('default/web')?.current.get('default/web:http')?.port).toBe(81);
    expect(t.pendingCount()).toBe(0);

    t.update(undefined, service('tmp'));
    expect(t.update(service('tmp'), undefined)).toBe(false);
    expect(t.checkout().size).toBe(0);
  });

  it('ignores updates that do not change any port (e.g. metadata only)', () => {
    const t = new ServiceChangeTracker('IPv4');
    const a = service('web');
    const b = { ...service('web'), metadata: { ...a.metadata, labels: { x: 'y' } } };
    expect(t.update(a, b)).toBe(false);
  });
});

describe('EndpointsChangeTracker', () => {
  it('reports only services whose endpoints changed', () => {
    const t = new EndpointsChangeTracker('IPv4', 'n1');
    t.endpointSliceUpdate(slice('web', [{ ip: '10.0.0.1' }]), false);
    t.endpointSliceUpdate(slice('db', [{ ip: '10.0.1.1' }], { ports: [{ port: 5432 }] }), false);
    const first = t.checkout();
    expect([...first.changes.keys()].sort()).toEqual(['default/db', 'default/web']);

    // Re-sending an identical slice is no change.
    t.endpointSliceUpdate(slice('web', [{ ip: '10.0.0.1' }]), false);
    expect(t.checkout().changes.size).toBe(0);

    t.endpointSliceUpdate(slice('web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]), false);
    const second = t.checkout();
    expect([...second.changes.keys()]).toEqual(['default/web']);
    expect(second.changes.get('default/web')?.previous.get('default/web:http')?.length).toBe(1);
    expect(second.changes.get('default/web')?.current.get('default/web:http')?.length).toBe(2);
  });

  it('handles slice deletion and ignores unlabelled slices', () => {
    const t = new EndpointsChangeTracker('IPv4', '');
    const s = slice('web', [{ ip: '10.0.0.1' }]);
    t.endpointSliceUpdate(s, false);
    t.checkout();
    t.endpointSliceUpdate(s, true);
    const out = t.checkout();
    expect(out.changes.get('default/web')?.current.size).toBe(0);
    const unlabelled = { ...s, metadata: { name: 'x', namespace: 'default' } };
    expect(t.endpointSliceUpdate(unlabelled, false)).toBe(false);
  });

  it('collects last-change-trigger-times of changed services', () => {
    const t = new EndpointsChangeTracker('IPv4', '');
    t.endpointSliceUpdate(
      slice('web', [{ ip: '10.0.0.1' }], {
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:00Z' },
      }),
      false,
    );
    expect(t.checkout().lastChangeTriggerTimes.get('default/web')).toEqual([Date.UTC(2026, 0, 1)]);
  });
  it('property: previous endpoints read from the held map are the ones built from the old slices', () => {
    // Slices of two Services, several per Service, with ports and endpoints (some IPv6, which
    // an IPv4 tracker drops) changing, deleted and re-added.
    const update = fc.record({
      svc: fc.constantFrom('web', 'db'),
      name: fc.constantFrom('a', 'b'),
      removed: fc.boolean(),
      ports: fc.subarray(['http', 'metrics', ''], { minLength: 1 }),
      ips: fc.uniqueArray(fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1'), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(update, { maxLength: 4 }), { maxLength: 6 }), (rounds) => {
        const rebuilt = new EndpointsChangeTracker('IPv4', 'n1');
        const lookedUp = new EndpointsChangeTracker('IPv4', 'n1');
        let held: ReadonlyMap<string, readonly EndpointInfo[]> = new Map();
        for (const round of rounds) {
          for (const u of round) {
            const s = slice(
              u.svc,
              u.ips.map((ip) => ({ ip, node: ip.endsWith('1') ? 'n1' : 'n2' })),
              { name: `${u.svc}-${u.name}`, ports: u.ports.map((name, i) => ({ name, port: 8080 + i })) },
            );
            rebuilt.endpointSliceUpdate(s, u.removed);
            lookedUp.endpointSliceUpdate(s, u.removed);
          }
          const expected = rebuilt.checkout();
          const actual = lookedUp.checkout(held);
          expect(actual.changes).toEqual(expected.changes);
          held = applyEndpointsChanges(held, actual.changes).endpoints;
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('EndpointsChangeTracker keeps endpoints, not slices', () => {
  it('property: each changed Service gets what its live slices give whole, deletions passed without endpoints', () => {
    // As watchCluster's cache does, a deletion hands over a slice without its endpoints. An
    // address may repeat within a slice (with other conditions) and across a Service's slices.
    const update = fc.record({
      svc: fc.constantFrom('web', 'db'),
      name: fc.constantFrom('a', 'b', 'c'),
      removed: fc.boolean(),
      ports: fc.subarray(['http', 'metrics'], { minLength: 1 }),
      eps: fc.array(
        fc.record({ ip: fc.constantFrom('10.0.0.1', '10.0.0.2', 'fd00::1'), ready: fc.boolean() }),
        {
          maxLength: 4,
        },
      ),
    });
    fc.assert(
      fc.property(fc.array(fc.array(update, { maxLength: 4 }), { maxLength: 6 }), (rounds) => {
        const tracker = new EndpointsChangeTracker('IPv4', 'n1');
        const live = new Map<string, Map<string, ReturnType<typeof slice>>>();
        let held: ReadonlyMap<string, readonly EndpointInfo[]> = new Map();
        for (const round of rounds) {
          for (const u of round) {
            const s = slice(u.svc, u.eps, {
              name: `${u.svc}-${u.name}`,
              ports: u.ports.map((name, i) => ({ name, port: 8080 + i })),
            });
            const slices = live.get(u.svc) ?? new Map();
            live.set(u.svc, slices);
            if (u.removed) slices.delete(s.metadata!.name!);
            else slices.set(s.metadata!.name!, s);
            tracker.endpointSliceUpdate(u.removed ? { ...s, endpoints: [] } : s, u.removed);
          }
          const out = tracker.checkout(held);
          for (const [svc, change] of out.changes) {
            const whole = endpointsFromSlices(live.get(svc.split('/')[1]!)!.values(), 'IPv4', 'n1');
            expect(new Map(change.current)).toEqual(whole);
          }
          held = applyEndpointsChanges(held, out.changes).endpoints;
          for (const [svc, slices] of live)
            for (const [key, eps] of endpointsFromSlices(slices.values(), 'IPv4', 'n1'))
              expect(held.get(key), `${svc} ${key}`).toEqual(eps);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('ProxyState snapshots', () => {
  it('advances state and reports changed services, leaving earlier snapshots untouched', () => {
    const st = new ProxyState('IPv4', 'n1');
    st.onService(undefined, service('web'));
    st.onEndpointSlice(slice('web', [{ ip: '10.0.0.1' }]), false);
    const s1 = st.snapshot();
    expect([...s1.changedServices]).toEqual(['default/web']);
    expect(s1.services.get('default/web:http')?.clusterIP).toBe('10.96.0.10');
    expect(s1.endpoints.get('default/web:http')?.length).toBe(1);

    st.onService(undefined, service('db', { clusterIP: '10.96.0.11', ports: [{ name: 'pg', port: 5432 }] }));
    const s2 = st.snapshot();
    expect([...s2.changedServices]).toEqual(['default/db']);
    expect(s2.services.size).toBe(2);
    expect(s1.services.size).toBe(1);

    const s3 = st.snapshot();
    expect(s3.changedServices.size).toBe(0);
    expect(s3.services).toBe(s2.services);
  });

  it('tells when node labels changed', () => {
    const st = new ProxyState('IPv4', 'n1');
    expect(st.setNodeLabels({ 'topology.kubernetes.io/zone': 'a' })).toBe(true);
    expect(st.setNodeLabels({ 'topology.kubernetes.io/zone': 'a' })).toBe(false);
    expect(st.setNodeLabels({ 'topology.kubernetes.io/zone': 'b' })).toBe(true);
  });

  it("keeps only the topology zone, as upstream's NodeTopologyConfig: other labels change nothing, and the snapshot keeps its object", () => {
    const st = new ProxyState('IPv4', 'n1');
    expect(st.setNodeLabels({ 'kubernetes.io/hostname': 'n1' })).toBe(false);
    expect(st.setNodeLabels({ 'topology.kubernetes.io/zone': 'a', 'kubernetes.io/hostname': 'n1' })).toBe(
      true,
    );
    const before = st.snapshot().nodeLabels;
    expect(before).toEqual({ 'topology.kubernetes.io/zone': 'a' });
    // A Node update with the same zone (its status, another label): no change, the same object.
    expect(st.setNodeLabels({ 'topology.kubernetes.io/zone': 'a', 'node-role.kubernetes.io/edge': '' })).toBe(
      false,
    );
    expect(st.snapshot().nodeLabels).toBe(before);
    // An empty zone is a zone (upstream keeps the key whenever the label is there).
    expect(st.setNodeLabels({ 'topology.kubernetes.io/zone': '' })).toBe(true);
    expect(st.snapshot().nodeLabels).toEqual({ 'topology.kubernetes.io/zone': '' });
    expect(st.setNodeLabels({})).toBe(true);
    expect(st.snapshot().nodeLabels).toEqual({});
  });

  it('builds a snapshot straight from object lists', () => {
    const snap = snapshotFromObjects({
      family: 'IPv4',
      nodeName: 'n1',
      services: [service('web')],
      endpointSlices: [slice('web', [{ ip: '10.0.0.1', node: 'n1' }])],
    });
    expect(snap.endpoints.get('default/web:http')?.[0]?.isLocal).toBe(true);
  });
});
