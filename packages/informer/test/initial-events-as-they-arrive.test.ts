import { describe, expect, it } from 'vitest';
import { ApiStatusError, Informer } from '../src/index';
import { InitialEvents } from '../src/initial-events';
import { eventually } from './helpers';
import { type CM, cm, type Emit, endBookmark, StreamScript } from './stream-script';

describe('applyInitialEventsAsTheyArrive: a first watch-list stream applied object by object', () => {
  it('stores and hands out each object at its event, retains it, and syncs only at the bookmark', async () => {
    let emit: Emit = () => undefined;
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const lw = new StreamScript([
      async (e) => {
        emit = e;
        return held;
      },
    ]);
    const inf = new Informer<CM>({
      listerWatcher: lw,
      applyInitialEventsAsTheyArrive: true,
      retain: (o) => ({ metadata: o.metadata }),
    });
    const added: CM[] = [];
    inf.onAdd((o) => added.push(o));
    inf.start();
    await eventually(() => expect(lw.watches).toHaveLength(1));
    emit({ type: 'ADDED', object: { ...cm('a', '7'), data: { k: 'v' } } });
    // Handed out whole, stored in its retained form, before any sync.
    expect(added.map((o) => o.data)).toEqual([{ k: 'v' }]);
    expect(inf.get('ns/a')).toEqual({ metadata: cm('a', '7').metadata });
    expect(inf.hasSynced()).toBe(false);
    emit({ type: 'ADDED', object: cm('b', '4') });
    emit({ type: 'DELETED', object: cm('b', '8') });
    expect(inf.store.keys()).toEqual(['ns/a']);
    // The objects' own versions are not the stream's position: only the bookmark sets it.
    expect(inf.lastSyncResourceVersion).toBe('');
    emit(endBookmark('9'));
    expect(inf.hasSynced()).toBe(true);
    expect(inf.lastSyncResourceVersion).toBe('9');
    expect(inf.stats).toMatchObject({ lists: 1, streamedLists: 1, events: 3 });
    // After the bookmark the same watch goes on as an ordinary one.
    emit({ type: 'MODIFIED', object: cm('a', '10') });
    expect(inf.lastSyncResourceVersion).toBe('10');
    expect(lw.lists).toEqual([]);
    release();
    await inf.stop();
  });

  it('a stream that breaks halfway leaves its objects, and the LIST after it reconciles them', async () => {
    const lw = new StreamScript([
      async (emit) => {
        emit({ type: 'ADDED', object: cm('half', '4') });
        throw new Error('socket hang up');
      },
    ]);
    const seen: string[] = [];
    const inf = new Informer<CM>({ listerWatcher: lw, applyInitialEventsAsTheyArrive: true });
    inf.onAdd((o) => seen.push(`add ${o.metadata?.name}`));
    inf.onDelete((o) => seen.push(`delete ${o.metadata?.name}`));
    inf.start();
    await inf.waitForSync();
    expect(seen).toEqual(['add half', 'add listed', 'delete half']);
    expect(inf.store.keys()).toEqual(['ns/listed']);
    expect(lw.watches[0]?.resourceVersion).toBe('');
    await inf.stop();
  });

  it('a stream into a store that holds objects (a relist after 410) is held apart and replaces it at its end', async () => {
    let emitSecond: Emit = () => undefined;
    const lw = new StreamScript([
      async (emit) => {
        emit({ type: 'ADDED', object: cm('a', '4') });
        emit({ type: 'ADDED', object: cm('b', '4') });
        emit(endBookmark('5'));
        throw new ApiStatusError(410, 'Expired', 'too old');
      },
      async (emit, signal) => {
        emitSecond = emit;
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      },
    ]);
    const inf = new Informer<CM>({ listerWatcher: lw, applyInitialEventsAsTheyArrive: true });
    const batches: string[][] = [];
    inf.onChange((changes) => batches.push(changes.map((c) => `${c.type} ${c.key}`)));
    inf.start();
    await inf.waitForSync();
    expect(batches).toEqual([['add ns/a'], ['add ns/b']]);
    await eventually(() => expect(lw.watches).toHaveLength(2));
    expect(lw.watches[1]).toMatchObject({ sendInitialEvents: true });
    emitSecond({ type: 'ADDED', object: cm('a', '4') });
    emitSecond({ type: 'ADDED', object: cm('c', '6') });
    // Held apart until its bookmark: nothing handed out, the old state still stored.
    expect(batches).toHaveLength(2);
    expect(inf.store.keys().sort()).toEqual(['ns/a', 'ns/b']);
    emitSecond(endBookmark('7'));
    expect(batches[2]?.sort()).toEqual(['add ns/c', 'delete ns/b']);
    expect(inf.store.keys().sort()).toEqual(['ns/a', 'ns/c']);
    expect(inf.stats).toMatchObject({ lists: 2, streamedLists: 2, expired: 1 });
    await inf.stop();
  });

  it('a held stream forgets its objects once they are taken for the replace', () => {
    // The reflector's loop refers to the stream's InitialEvents for as long as the stream goes on
    // as the watch: holding the objects would keep every decoded original beside the store's
    // retained copies.
    const held = new InitialEvents<CM>();
    held.put(cm('a', '1'));
    held.put(cm('b', '2'));
    held.remove(cm('b', '3'));
    expect(held.size).toBe(1);
    expect(held.take().map((o) => o.metadata?.name)).toEqual(['a']);
    expect(held.size).toBe(0);
    expect(held.take()).toEqual([]);
    const direct = new InitialEvents<CM>(true);
    direct.countApplied();
    direct.countApplied();
    expect(direct.size).toBe(2);
  });
});
