import { startApiServer } from '@nodeagent/testing';
import { describe, expect, it } from 'vitest';
import { ApiStatusError, Informer } from '../src/index';
import { LineReader } from '../src/line-reader';
import { eventually } from './helpers';
import { type CM, cm, type Emit, endBookmark, StreamScript } from './stream-script';

describe('watch-list: the initial state from one streamed watch (KEP-3157)', { timeout: 30_000 }, () => {
  it('asks for sendInitialEvents from "", syncs at the end bookmark, and keeps the same watch', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let emitLater: Emit = () => undefined;
    const lw = new StreamScript([
      async (emit) => {
        emit({ type: 'ADDED', object: cm('a', '4') });
        emit({ type: 'ADDED', object: cm('b', '5') });
        emitLater = emit;
        return held;
      },
    ]);
    const inf = new Informer<CM>({ listerWatcher: lw });
    const batches: number[] = [];
    inf.onChange((changes) => batches.push(changes.length));
    inf.start();
    await eventually(() => expect(inf.stats.events).toBe(2));
    // Objects before the bookmark wait apart: nothing stored, nothing handed out, not synced.
    expect(inf.hasSynced()).toBe(false);
    expect(inf.list()).toEqual([]);
    emitLater(endBookmark('9'));
    expect(inf.hasSynced()).toBe(true);
    expect(inf.store.keys().sort()).toEqual(['ns/a', 'ns/b']);
    expect(batches).toEqual([2]);
    expect(inf.lastSyncResourceVersion).toBe('9');
    emitLater({ type: 'MODIFIED', object: cm('a', '10') });
    expect(inf.get('ns/a')?.metadata?.resourceVersion).toBe('10');
    expect(lw.lists).toEqual([]);
    expect(lw.watches).toHaveLength(1);
    expect(lw.watches[0]).toMatchObject({
      resourceVersion: '',
      sendInitialEvents: true,
      allowWatchBookmarks: true,
    });
    expect(inf.stats).toMatchObject({ lists: 1, streamedLists: 1, watches: 1 });
    release();
    // The stream ended: the next watch is a plain one from the bookmark's version.
    await eventually(() => expect(lw.watches).toHaveLength(2));
    expect(lw.watches[1]?.resourceVersion).toBe('10');
    expect(lw.watches[1]?.sendInitialEvents).toBeUndefined();
    await inf.stop();
  });

  it('falls back to a LIST when the server refuses the stream (a 422, as a server without WatchList answers)', async () => {
    const lw = new StreamScript([
      async () => {
        throw new ApiStatusError(422, 'Invalid', 'ListOptions.meta.k8s.io "" is invalid: ...');
      },
    ]);
    const errors: unknown[] = [];
    const inf = new Informer<CM>({ listerWatcher: lw, onError: (e) => errors.push(e) });
    inf.start();
    await inf.waitForSync();
    expect(inf.store.keys()).toEqual(['ns/listed']);
    expect(lw.lists).toHaveLength(1);
    expect(errors).toHaveLength(1);
    await eventually(() => expect(lw.watches).toHaveLength(2));
    expect(lw.watches[1]).toMatchObject({ resourceVersion: '3' });
    expect(lw.watches[1]?.sendInitialEvents).toBeUndefined();
    expect(inf.stats).toMatchObject({ lists: 1, streamedLists: 0 });
    await inf.stop();
  });

  it('a stream that breaks before its bookmark changes nothing and is listed instead', async () => {
    const lw = new StreamScript([
      async (emit) => {
        emit({ type: 'ADDED', object: cm('half', '4') });
        throw new Error('socket hang up');
      },
    ]);
    const seen: string[] = [];
    const inf = new Informer<CM>({ listerWatcher: lw });
    inf.onAdd((o) => seen.push(o.metadata?.name ?? ''));
    inf.start();
    await inf.waitForSync();
    expect(seen).toEqual(['listed']);
    expect(inf.store.keys()).toEqual(['ns/listed']);
    await inf.stop();
  });

  it('retries the stream after a backoff on 429, and from "" after 410', async () => {
    const lw = new StreamScript([
      async () => {
        throw new ApiStatusError(429, 'TooManyRequests', 'slow down', 0);
      },
      async () => {
        throw new ApiStatusError(410, 'Expired', 'too old');
      },
      async (emit) => {
        emit({ type: 'ADDED', object: cm('a', '4') });
        emit(endBookmark('6'));
      },
    ]);
    const inf = new Informer<CM>({ listerWatcher: lw, backoff: { initialMs: 1, maxMs: 2 } });
    inf.start();
    await inf.waitForSync();
    expect(lw.lists).toEqual([]);
    expect(lw.watches.slice(0, 3).map((w) => w.sendInitialEvents)).toEqual([true, true, true]);
    expect(inf.stats).toMatchObject({ errors: 1, expired: 1, streamedLists: 1 });
    await inf.stop();
  });

  it('a stream closed at once with nothing sent is listed (client-go: a very short watch)', async () => {
    const lw = new StreamScript([async () => undefined]);
    const inf = new Informer<CM>({ listerWatcher: lw, now: () => 1_000 });
    inf.start();
    await inf.waitForSync();
    expect(lw.lists).toHaveLength(1);
    await inf.stop();
  });

  it('watchList: false, or a ListerWatcher that does not declare support, lists as before', async () => {
    for (const [lw, opts] of [
      [new StreamScript([]), { watchList: false }],
      [Object.assign(new StreamScript([]), { supportsWatchList: undefined }), {}],
    ] as const) {
      const inf = new Informer<CM>({ listerWatcher: lw, ...opts });
      inf.start();
      await inf.waitForSync();
      expect(lw.lists).toHaveLength(1);
      await eventually(() => expect(lw.watches).toHaveLength(1));
      expect(lw.watches[0]?.sendInitialEvents).toBeUndefined();
      await inf.stop();
    }
  });

  it('against the in-process server: one watch request reads the state and then follows it', async () => {
    const server = await startApiServer();
    try {
      const cms = server.resource('v1', 'configmaps');
      for (let i = 0; i < 5; i++) server.registry.create(cms, 'default', { metadata: { name: `c${i}` } });
      server.registry.create(cms, 'kube-system', { metadata: { name: 'elsewhere' } });
      const inf = new Informer<CM>({
        kubeConfig: server.kubeConfig(),
        resource: { apiVersion: 'v1', plural: 'configmaps', namespace: 'default' },
      });
      inf.start();
      await inf.waitForSync();
      expect(inf.store.keys().sort()).toEqual([
        'default/c0',
        'default/c1',
        'default/c2',
        'default/c3',
        'default/c4',
      ]);
      expect(inf.lastSyncResourceVersion).toBe(String(server.store.resourceVersion));
      server.registry.create(cms, 'default', { metadata: { name: 'late' } });
      await eventually(() => expect(inf.get('default/late')).toBeDefined());
      expect(inf.stats).toMatchObject({ lists: 1, streamedLists: 1, watches: 1, errors: 0 });
      await inf.stop();
    } finally {
      await server.close();
    }
  });
});

describe('LineReader', () => {
  const read = (chunks: string[], stopAt?: string) => {
    const lines: string[] = [];
    const reader = new LineReader();
    for (const c of chunks)
      reader.push(c, (l) => {
        lines.push(l);
        return l !== stopAt;
      });
    return lines;
  };

  it('joins a line split over chunks and splits chunks holding several lines', () => {
    expect(read(['{"a":', '1}\n{"b"', ':2}\n{"c":3}\n{"d'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(read(['x\ny\n', '', 'z', '\n'])).toEqual(['x', 'y', 'z']);
  });

  it('stops at once when the handler says so', () => {
    expect(read(['a\nb\nc\n', 'd\n'], 'b')).toEqual(['a', 'b', 'd']);
  });
});
