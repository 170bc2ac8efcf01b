import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../src/apiserver/kube-object';
import { LowestFreeAllocator } from '../src/apiserver/lowest-free-allocator';
import { ObjectStore } from '../src/apiserver/object-store';
import { ResourceRegistry } from '../src/apiserver/resource-registry';
import { findResourceType, type ResourceType } from '../src/apiserver/resource-types';

// Creating N objects must cost O(N) (issue #54: 44k Services took minutes). These tests pin the
// work per create by counting it, never by timing it.

const SERVICES = findResourceType('', 'v1', 'services') as ResourceType;
const NAMESPACES = findResourceType('', 'v1', 'namespaces') as ResourceType;
const CONFIGMAPS = findResourceType('', 'v1', 'configmaps') as ResourceType;

function registry(historyWindow = 10_000): ResourceRegistry {
  const r = new ResourceRegistry(new ObjectStore(historyWindow), {
    now: () => new Date('2026-01-01T00:00:00Z'),
    serviceCIDR: '10.96.0.0/12',
  });
  r.create(NAMESPACES, undefined, { metadata: { name: 'ns' } });
  return r;
}

function service(name: string, spec: Record<string, unknown> = {}): unknown {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } };
}

const specOf = (o: KubeObject) => o.spec as { clusterIP: string; ports: { nodePort?: number }[] };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('bulk creation in the in-process API server', () => {
  it('allocates the lowest free ClusterIP and NodePort without listing the stored Services', () => {
    const r = registry();
    const list = vi.spyOn(r.store, 'list');
    const a = r.create(SERVICES, 'ns', service('a'));
    r.create(SERVICES, 'ns', service('taken', { clusterIP: '10.96.0.3' }));
    const b = r.create(SERVICES, 'ns', service('b'));
    const c = r.create(SERVICES, 'ns', service('c'));
    const np1 = r.create(
      SERVICES,
      'ns',
      service('np1', { type: 'NodePort', ports: [{ port: 1 }, { port: 2 }] }),
    );
    const np2 = r.create(SERVICES, 'ns', service('np2', { type: 'NodePort' }));
    expect([a, b, c].map((s) => specOf(s).clusterIP)).toEqual(['10.96.0.2', '10.96.0.4', '10.96.0.5']);
    expect(specOf(np1).ports.map((p) => p.nodePort)).toEqual([30000, 30001]);
    expect(specOf(np2).ports.map((p) => p.nodePort)).toEqual([30002]);
    // A deleted Service's addresses are free again, lowest first.
    r.delete(SERVICES, 'ns', 'b');
    r.delete(SERVICES, 'ns', 'np1');
    const d = r.create(SERVICES, 'ns', service('d', { type: 'NodePort' }));
    expect(specOf(d).clusterIP).toBe('10.96.0.4');
    expect(specOf(d).ports[0]?.nodePort).toBe(30000);
    // A dry run and a failed create hold nothing.
    r.create(SERVICES, 'ns', service('dry'), { dryRun: true });
    expect(() => r.create(SERVICES, 'ns', service('a'))).toThrow(/already exists/);
    expect(specOf(r.create(SERVICES, 'ns', service('e'))).clusterIP).toBe('10.96.0.6');
    expect(list).not.toHaveBeenCalled();
  });

  it('looks at a bounded number of candidate ClusterIPs per Service created', () => {
    const r = registry();
    const n = 3000;
    for (let i = 0; i < n; i++) {
      // Every third Service brings its own address (10.96.0.0 + 2i + 2), ahead of the allocator.
      const own = i % 3 === 0 ? { clusterIP: `10.96.${((2 * i + 2) >> 8) & 255}.${(2 * i + 2) & 255}` } : {};
      r.create(SERVICES, 'ns', service(`s-${i}`, own));
      if (i % 10 === 9) r.delete(SERVICES, 'ns', `s-${i - 5}`);
    }
    const allocator = r.serviceAddresses.clusterIPs;
    // A scan from .2 per create would look at ~n²/2 candidates; the frontier and the freed heap
    // look at each candidate about twice (once to hand it out, once to see it taken).
    expect(allocator.candidatesExamined).toBeLessThan(4 * n);
    const ips = r.list(SERVICES, 'ns').map((s) => specOf(s).clusterIP);
    expect(new Set(ips).size).toBe(ips.length);
  });

  it('sorts a resource for listing once per change of its key set, not once per list', () => {
    const r = registry();
    for (let i = 0; i < 500; i++) r.create(CONFIGMAPS, 'ns', { metadata: { name: `cm-${999 - i}` } });
    const names = () => r.store.list('/configmaps', 'ns').map((o) => o.metadata.name);
    /** How many sorts `names()` called `times` times makes. */
    const sortsOf = (times: number): number => {
      const sort = vi.spyOn(Array.prototype, 'sort');
      for (let i = 0; i < times; i++) names();
      const calls = sort.mock.calls.length;
      sort.mockRestore();
      return calls;
    };
    expect(sortsOf(20)).toBe(1);
    const first = names();
    expect(first).toEqual([...first].sort());
    // Updating an object keeps the key set and the order; adding one re-sorts once.
    r.update(CONFIGMAPS, 'ns', 'cm-999', { metadata: { name: 'cm-999' }, data: { a: 'b' } });
    expect(sortsOf(5)).toBe(0);
    expect(names()).toEqual(first);
    r.create(CONFIGMAPS, 'ns', { metadata: { name: 'cm-0000' } });
    expect(sortsOf(5)).toBe(1);
    expect(names()).toEqual(['cm-0000', ...first]);
    r.delete(CONFIGMAPS, 'ns', 'cm-999');
    expect(sortsOf(5)).toBe(1);
    expect(names()).toEqual(['cm-0000', ...first.slice(0, -1)]);
  });

  it('cuts the watch history in batches, still serving every event within the window', () => {
    const window = 100;
    const r = registry(window);
    const splice = vi.spyOn(Array.prototype, 'splice');
    for (let i = 0; i < 10 * window; i++) r.create(CONFIGMAPS, 'ns', { metadata: { name: `cm-${i}` } });
    // One cut per `window` writes, not one per write.
    expect(splice.mock.calls.length).toBeLessThanOrEqual(10);
    splice.mockRestore();
    const rv = r.store.resourceVersion;
    expect(r.store.eventsSince(rv - window - 1)).toBeUndefined();
    const since = r.store.eventsSince(rv - window) ?? [];
    expect(since.map((e) => e.rv)).toEqual(Array.from({ length: window }, (_, i) => rv - window + 1 + i));
    expect(r.store.oldestWatchableRevision).toBe(rv - window);
  });
});

describe('LowestFreeAllocator', () => {
  it('hands out what a scan from the start would, counting shared holders', () => {
    const a = new LowestFreeAllocator(10, 14);
    a.take(11);
    a.take(11);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([10, 12, 13]);
    a.release(11);
    expect(a.isTaken(11)).toBe(true);
    a.release(11);
    a.release(10);
    expect([a.allocate(), a.allocate(), a.allocate(), a.allocate()]).toEqual([10, 11, 14, undefined]);
  });
});
