import { describe, expect, it } from 'vitest';
import { Informer } from '../src/index';
import { type CM, cm, StreamScript } from './stream-script';

// A first LIST into an empty store, with applyInitialEventsAsTheyArrive, is applied item by item
// as a first watch-list stream is, handing the event loop back every few ms (issue #85: with
// the WatchList gate off, kube-proxy's start at 250k endpoints ran every slice's handler in one
// task of over 0.1 s). It syncs only once every item is in.

const ITEMS = 60;
/** A handler that takes a millisecond of CPU: 60 of them are several slices of 8 ms. */
const busyMs = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

function listOf(n: number) {
  return {
    items: Array.from({ length: n }, (_, i) => ({ ...cm(`o${i}`, String(10 + i)), data: { k: `v${i}` } })),
    resourceVersion: '100',
  };
}

describe('a first LIST applied as it arrives', () => {
  it('hands each item out and stores its retained form, with loop turns between slices, and syncs at the end', async () => {
    const lw = new StreamScript([], listOf(ITEMS));
    const inf = new Informer<CM>({
      listerWatcher: lw,
      watchList: false,
      applyInitialEventsAsTheyArrive: true,
      retain: (o) => ({ metadata: o.metadata }),
    });
    const added: string[] = [];
    let syncedAtAdd = false;
    inf.onAdd((o) => {
      added.push(`${o.metadata?.name}=${o.data?.k}`);
      syncedAtAdd ||= inf.hasSynced();
      busyMs(1);
    });
    let turns = 0;
    let running = true;
    const turn = () => {
      turns++;
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    inf.start();
    await inf.waitForSync();
    const turnsAtSync = turns;
    running = false;
    expect(added).toEqual(Array.from({ length: ITEMS }, (_, i) => `o${i}=v${i}`));
    expect(syncedAtAdd).toBe(false);
    // 60 ms of handlers in slices of 8 ms: the loop turned between them.
    expect(turnsAtSync).toBeGreaterThanOrEqual(4);
    expect(inf.get('ns/o7')).toEqual({ metadata: cm('o7', '17').metadata });
    expect(inf.lastSyncResourceVersion).toBe('100');
    expect(inf.stats).toMatchObject({ lists: 1 });
    await inf.stop();
  });

  it('a store that holds objects (a relist) is replaced whole at the list’s end, deletions included', async () => {
    const lw = new StreamScript([], listOf(3));
    const inf = new Informer<CM>({
      listerWatcher: lw,
      watchList: false,
      applyInitialEventsAsTheyArrive: true,
    });
    const seen: string[] = [];
    inf.onAdd((o) => seen.push(`add ${o.metadata?.name}`));
    inf.onUpdate((_, o) => seen.push(`update ${o.metadata?.name}`));
    inf.onDelete((o) => seen.push(`delete ${o.metadata?.name}`));
    inf.store.upsert(cm('gone', '1'));
    inf.store.upsert(cm('o1', '1'));
    inf.start();
    await inf.waitForSync();
    expect(seen.sort()).toEqual(['add o0', 'add o2', 'delete gone', 'update o1']);
    await inf.stop();
  });

  it('stopped halfway, it neither syncs nor goes on applying', async () => {
    const lw = new StreamScript([], listOf(ITEMS));
    const inf = new Informer<CM>({
      listerWatcher: lw,
      watchList: false,
      applyInitialEventsAsTheyArrive: true,
    });
    let adds = 0;
    let stopping: Promise<void> | undefined;
    inf.onAdd(() => {
      adds++;
      busyMs(1);
      if (adds === 20) stopping = inf.stop();
    });
    inf.start();
    await expect(inf.waitForSync()).rejects.toThrow();
    await stopping;
    expect(adds).toBeLessThan(ITEMS);
    expect(inf.hasSynced()).toBe(false);
  });
});
