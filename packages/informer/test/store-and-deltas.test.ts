import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { DeltaTracker, IndexedStore, InvalidOptionError, type Wire } from '../src/index';

function pod(name: string, rv: string, node: string): Wire<V1Pod> {
  return {
    metadata: { name, namespace: 'ns', resourceVersion: rv },
    spec: { nodeName: node, containers: [] },
  };
}

describe('IndexedStore', () => {
  const byNode = (p: Wire<V1Pod>) => (p.spec?.nodeName ? [p.spec.nodeName] : []);

  it('keeps indexes in step with updates and deletes', () => {
    const s = new IndexedStore<Wire<V1Pod>>({ byNode });
    s.upsert(pod('a', '1', 'n1'));
    s.upsert(pod('b', '2', 'n1'));
    expect(
      s
        .byIndex('byNode', 'n1')
        .map((p) => p.metadata?.name)
        .sort(),
    ).toEqual(['a', 'b']);
    s.upsert(pod('a', '3', 'n2'));
    expect(s.byIndex('byNode', 'n1').map((p) => p.metadata?.name)).toEqual(['b']);
    expect(s.byIndex('byNode', 'n2').map((p) => p.metadata?.name)).toEqual(['a']);
    s.remove(pod('b', '4', 'n1'));
    expect(s.indexValues('byNode')).toEqual(['n2']);
    expect(() => s.byIndex('nope', 'x')).toThrow(InvalidOptionError);
  });

  it('ignores a write with the resourceVersion it already holds', () => {
    const s = new IndexedStore<Wire<V1Pod>>();
    expect(s.upsert(pod('a', '1', 'n1'))?.type).toBe('add');
    expect(s.upsert(pod('a', '1', 'n1'))).toBeUndefined();
    expect(s.upsert(pod('a', '2', 'n1'))?.type).toBe('update');
  });

  it('replace() reports deletes for objects missing from a relist', () => {
    const s = new IndexedStore<Wire<V1Pod>>();
    s.upsert(pod('a', '1', 'n1'));
    s.upsert(pod('b', '2', 'n1'));
    const changes = s.replace([pod('b', '2', 'n1'), pod('c', '5', 'n1')]);
    expect(changes.map((c) => `${c.type}:${c.key}`).sort()).toEqual(['add:ns/c', 'delete:ns/a']);
    expect(s.keys().sort()).toEqual(['ns/b', 'ns/c']);
  });
});

describe('DeltaTracker', () => {
  it('collapses changes into one net delta per object', () => {
    const d = new DeltaTracker<Wire<V1Pod>>();
    const a1 = pod('a', '1', 'n');
    const a2 = pod('a', '2', 'n');
    const a3 = pod('a', '3', 'n');
    d.record({ type: 'add', key: 'ns/a', current: a1 });
    d.record({ type: 'update', key: 'ns/a', previous: a1, current: a2 });
    expect(d.take()).toEqual([{ key: 'ns/a', current: a2 }]);
    d.record({ type: 'update', key: 'ns/a', previous: a2, current: a3 });
    d.record({ type: 'delete', key: 'ns/a', previous: a3 });
    expect(d.take()).toEqual([{ key: 'ns/a', previous: a2 }]);
    expect(d.take()).toEqual([]);
  });

  it('drops objects that were added and deleted between syncs', () => {
    const d = new DeltaTracker<Wire<V1Pod>>();
    const b = pod('b', '1', 'n');
    d.record({ type: 'add', key: 'ns/b', current: b });
    d.record({ type: 'delete', key: 'ns/b', previous: b });
    expect(d.size).toBe(0);
    expect(d.take()).toEqual([]);
  });
});
