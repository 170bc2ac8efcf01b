import type { V1ConfigMap, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  Informer,
  InvalidOptionError,
  LAST_APPLIED_CONFIGURATION,
  type ListerWatcher,
  type ListPage,
  stripLastAppliedConfiguration,
  stripManagedFields,
  type WatchEvent,
  type Wire,
} from '../src/index';
import { eventually } from './helpers';

const managed: Wire<V1ManagedFieldsEntry>[] = [
  {
    manager: 'kubectl',
    operation: 'Update',
    apiVersion: 'v1',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:data': {} },
  },
];

const cm = (name: string, rv: string, data: Record<string, string> = {}): Wire<V1ConfigMap> => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv, managedFields: structuredClone(managed) },
  data,
});

/** One LIST answer, then the given watch events, then an idle watch until stopped. */
function scripted(
  list: ListPage<Wire<V1ConfigMap>>,
  events: WatchEvent<Wire<V1ConfigMap>>[],
): ListerWatcher<Wire<V1ConfigMap>> {
  let watched = false;
  return {
    list: async () => structuredClone(list),
    watch: async (_o, onEvent, signal) => {
      if (!watched) {
        watched = true;
        for (const e of events) onEvent(structuredClone(e));
      }
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
}

describe('Informer transform', () => {
  it('strips managedFields by default from listed and watched objects and from handler arguments', async () => {
    const inf = new Informer<Wire<V1ConfigMap>>({
      listerWatcher: scripted({ items: [cm('a', '1')], resourceVersion: '1' }, [
        { type: 'ADDED', object: cm('b', '2') },
        { type: 'MODIFIED', object: cm('a', '3', { k: 'v' }) },
        { type: 'DELETED', object: cm('b', '4') },
      ]),
    });
    const seen: Wire<V1ConfigMap>[] = [];
    inf.onAdd((o) => seen.push(o));
    inf.onUpdate((_old, o) => seen.push(o));
    inf.onDelete((o) => seen.push(o));
    inf.start();
    await eventually(() => expect(inf.stats.events).toBe(3));
    await inf.stop();
    expect(seen.map((o) => o.metadata?.name)).toEqual(['a', 'b', 'a', 'b']);
    for (const o of [...seen, ...inf.list()]) expect(o.metadata).not.toHaveProperty('managedFields');
    expect(inf.get('ns/a')?.data).toEqual({ k: 'v' });
  });

  it('applies a custom transform instead, and `(o) => o` keeps objects whole', async () => {
    const slim = new Informer<Wire<V1ConfigMap>>({
      listerWatcher: scripted(
        { items: [cm('a', '1', { big: 'x'.repeat(1000), small: 'y' })], resourceVersion: '1' },
        [],
      ),
      transform: (o) => ({ metadata: o.metadata, data: { small: o.data?.small ?? '' } }),
    });
    const whole = new Informer<Wire<V1ConfigMap>>({
      listerWatcher: scripted({ items: [cm('a', '1')], resourceVersion: '1' }, []),
      transform: (o) => o,
    });
    slim.start();
    whole.start();
    await Promise.all([slim.waitForSync(), whole.waitForSync()]);
    await Promise.all([slim.stop(), whole.stop()]);
    expect(slim.get('ns/a')?.data).toEqual({ small: 'y' });
    // The custom transform replaced the default one: managedFields stay unless it drops them.
    expect(slim.get('ns/a')?.metadata?.managedFields).toEqual(managed);
    expect(whole.get('ns/a')?.metadata?.managedFields).toEqual(managed);
  });

  it('stripManagedFields changes the object in place and leaves other metadata alone', () => {
    const o = cm('a', '7');
    o.metadata!.labels = { app: 'a' };
    const labels = o.metadata!.labels;
    expect(stripManagedFields(o)).toBe(o);
    expect(o.metadata?.labels).toBe(labels);
    expect(o.metadata).toEqual({ name: 'a', namespace: 'ns', resourceVersion: '7', labels: { app: 'a' } });
    expect(stripManagedFields({ kind: 'X' })).toEqual({ kind: 'X' });
  });
});

describe('stripLastAppliedConfiguration', () => {
  it('drops only the last-applied-configuration annotation', () => {
    const o = cm('a', '1');
    o.metadata!.annotations = { [LAST_APPLIED_CONFIGURATION]: JSON.stringify(o), keep: 'me' };
    expect(stripLastAppliedConfiguration(o).metadata?.annotations).toEqual({ keep: 'me' });
    const bare = { metadata: { name: 'b' } };
    expect(stripLastAppliedConfiguration(bare)).toEqual({ metadata: { name: 'b' } });
  });
});

describe('Informer deltas are opt-in', () => {
  it('takeDeltas throws without trackDeltas, and reports net changes with it', async () => {
    const list = { items: [cm('a', '1')], resourceVersion: '1' };
    const plain = new Informer<Wire<V1ConfigMap>>({ listerWatcher: scripted(list, []) });
    expect(() => plain.takeDeltas()).toThrow(InvalidOptionError);

    const tracked = new Informer<Wire<V1ConfigMap>>({
      listerWatcher: scripted(list, [
        { type: 'MODIFIED', object: cm('a', '2') },
        { type: 'ADDED', object: cm('b', '3') },
      ]),
      trackDeltas: true,
    });
    tracked.start();
    await eventually(() => expect(tracked.stats.events).toBe(2));
    await tracked.stop();
    const net = (i: Informer<Wire<V1ConfigMap>>) =>
      i
        .takeDeltas()
        .map((d) => [d.key, d.previous?.metadata?.resourceVersion, d.current?.metadata?.resourceVersion]);
    // Listed then modified before anyone took deltas: one "new" delta at its latest version.
    expect(net(tracked)).toEqual([
      ['ns/a', undefined, '2'],
      ['ns/b', undefined, '3'],
    ]);
    expect(net(tracked)).toEqual([]);
  });
});

describe('Informer retain', () => {
  it('hands handlers whole objects and keeps what retain returns for every later read', async () => {
    const errors: unknown[] = [];
    const inf = new Informer<Wire<V1ConfigMap>>({
      listerWatcher: scripted(
        {
          items: [cm('a', '1', { big: 'x', small: 'y' }), cm('bad', '1', { big: 'z' })],
          resourceVersion: '1',
        },
        [{ type: 'MODIFIED', object: cm('a', '2', { big: 'x2', small: 'y2' }) }],
      ),
      retain: (o) => {
        if (o.metadata?.name === 'bad') throw new Error('cannot slim');
        return { metadata: o.metadata, data: { small: o.data?.small ?? '' } };
      },
      indexers: { small: (o) => [o.data?.small ?? 'none'] },
      onError: (err) => errors.push(err),
    });
    const added: (Record<string, string> | undefined)[] = [];
    const updated: (Record<string, string> | undefined)[][] = [];
    inf.onAdd((o) => added.push(o.data));
    inf.onUpdate((old, o) => updated.push([old.data, o.data]));
    inf.start();
    await eventually(() => expect(inf.stats.events).toBe(1));
    await inf.stop();
    expect(added).toEqual([{ big: 'x', small: 'y' }, { big: 'z' }]);
    // The update's previous state is what the store kept of the listed object.
    expect(updated).toEqual([[{ small: 'y' }, { big: 'x2', small: 'y2' }]]);
    expect(inf.get('ns/a')?.data).toEqual({ small: 'y2' });
    expect(inf.store.byIndex('small', 'y2').map((o) => o.metadata?.name)).toEqual(['a']);
    expect(inf.store.byIndex('small', 'y')).toEqual([]);
    // A failing retain leaves the object whole and is reported.
    expect(inf.get('ns/bad')?.data).toEqual({ big: 'z' });
    expect(errors).toHaveLength(1);
  });
});

describe('Informer retain, object by object', () => {
  const listed = () =>
    scripted({ items: [cm('a', '1', { big: 'x' }), cm('b', '1', { big: 'y' })], resourceVersion: '1' }, []);
  const slim = (o: Wire<V1ConfigMap>) => {
    o.data = {};
    return o;
  };

  it('retains each listed object once its own handlers ran, when nothing reads the batch after them', async () => {
    const inf = new Informer<Wire<V1ConfigMap>>({ listerWatcher: listed(), retain: slim });
    // What the handler of the second object finds of the first in the store.
    const seen: (Record<string, string> | undefined)[] = [];
    inf.onAdd((o) => {
      seen.push(o.data);
      if (o.metadata?.name === 'b') seen.push({ ...inf.get('ns/a')?.data });
    });
    inf.start();
    await inf.waitForSync();
    await inf.stop();
    expect(seen).toEqual([{ big: 'x' }, { big: 'y' }, {}]);
  });

  it('retains after the whole batch when a change handler reads it', async () => {
    const inf = new Informer<Wire<V1ConfigMap>>({ listerWatcher: listed(), retain: slim });
    const batch: (Record<string, string> | undefined)[] = [];
    inf.onChange((changes) => {
      for (const c of changes) if (c.type !== 'delete') batch.push({ ...c.current.data });
    });
    inf.start();
    await inf.waitForSync();
    await inf.stop();
    expect(batch).toEqual([{ big: 'x' }, { big: 'y' }]);
    expect(inf.get('ns/a')?.data).toEqual({});
  });
});
