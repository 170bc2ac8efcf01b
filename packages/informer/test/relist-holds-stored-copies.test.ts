import { describe, expect, it } from 'vitest';
import { ApiStatusError, Informer } from '../src/index';
import { eventually } from './helpers';
import { type CM, cm, endBookmark, StreamScript } from './stream-script';

// A relist (after a 410, as after an API server restart) brings back mostly what the store
// holds at the same resourceVersion. Those objects are the store's own copies until the relist
// replaces the store, so the decoded ones are dropped at once and the transform does not run
// for them; what changed or is new goes through the transform as before, and the handlers hear
// exactly what they heard before.

/** The store's retained form of a ConfigMap: a new object, so identity tells which copy is stored. */
const retain = (o: CM): CM => ({ metadata: { ...o.metadata }, data: { retained: 'yes' } });

/** Informer options that retain as above and note each object the transform sees in `transformed`. */
const keeping = (transformed: string[]) => ({
  transform: (o: CM) => {
    transformed.push(`${o.metadata?.name}@${o.metadata?.resourceVersion}`);
    return o;
  },
  retain,
  backoff: { initialMs: 1, maxMs: 2 },
});

describe('a relist holds the stored copy of an unchanged object', { timeout: 30_000 }, () => {
  it('watch-list stream: unchanged objects keep their stored copy, changed and new ones are transformed', async () => {
    const expired = new ApiStatusError(410, 'Expired', 'too old');
    const lw = new StreamScript([
      async (emit) => {
        emit({ type: 'ADDED', object: cm('a', '1') });
        emit({ type: 'ADDED', object: cm('b', '2') });
        emit({ type: 'ADDED', object: cm('c', '3') });
        emit(endBookmark('5'));
        throw expired;
      },
      async (emit) => {
        emit({ type: 'ADDED', object: cm('a', '1') });
        emit({ type: 'ADDED', object: cm('b', '7') });
        emit({ type: 'ADDED', object: cm('d', '8') });
        emit(endBookmark('9'));
      },
    ]);
    const transformed: string[] = [];
    const inf = new Informer<CM>({ listerWatcher: lw, ...keeping(transformed) });
    const heard: string[] = [];
    inf.onAdd((o) => heard.push(`add ${o.metadata?.name}`));
    inf.onUpdate((_o, n) => heard.push(`update ${n.metadata?.name}@${n.metadata?.resourceVersion}`));
    inf.onDelete((o) => heard.push(`delete ${o.metadata?.name}`));
    inf.start();
    await inf.waitForSync();
    const storedA = inf.get('ns/a');
    expect(storedA?.data).toEqual({ retained: 'yes' });
    await eventually(() => expect(inf.stats).toMatchObject({ streamedLists: 2 }));
    // `a` came back at the same version: the store's object is the very one it held before.
    expect(inf.get('ns/a')).toBe(storedA);
    expect(inf.get('ns/b')?.metadata?.resourceVersion).toBe('7');
    expect(inf.store.keys().sort()).toEqual(['ns/a', 'ns/b', 'ns/d']);
    expect(transformed).toEqual(['a@1', 'b@2', 'c@3', 'b@7', 'd@8']);
    expect(heard).toEqual(['add a', 'add b', 'add c', 'update b@7', 'add d', 'delete c']);
    await inf.stop();
  });

  it("a stream's decoder is given the store while the initial events are collected, and only then", async () => {
    const asked: (object | undefined)[] = [];
    const ask = (rv: string) => asked.push(lw.watches.at(-1)?.held?.at('ns', 'a', rv));
    const lw = new StreamScript([
      async (emit) => {
        emit({ type: 'ADDED', object: cm('a', '1') });
        emit(endBookmark('2'));
        throw new ApiStatusError(410, 'Expired', 'too old');
      },
      async (emit) => {
        ask('1');
        ask('0');
        emit({ type: 'ADDED', object: cm('a', '1') });
        emit(endBookmark('3'));
        ask('1');
      },
    ]);
    const inf = new Informer<CM>({ listerWatcher: lw, backoff: { initialMs: 1, maxMs: 2 } });
    inf.start();
    await inf.waitForSync();
    const storedA = inf.get('ns/a');
    await eventually(() => expect(inf.stats).toMatchObject({ streamedLists: 2 }));
    // Before the end bookmark: the stored `a` at its version, nothing at another; after it, nothing.
    expect(asked).toEqual([storedA, undefined, undefined]);
    expect(inf.get('ns/a')).toBe(storedA);
    await inf.stop();
  });

  it('LIST: unchanged items keep their stored copy, changed and new ones are transformed', async () => {
    const lw = new StreamScript(
      [
        async () => {
          throw new ApiStatusError(422, 'Invalid', 'watch-list refused');
        },
        async (emit) => {
          emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } as never });
        },
        async () => {
          throw new ApiStatusError(422, 'Invalid', 'watch-list refused');
        },
      ],
      { items: [cm('a', '1'), cm('b', '2')], resourceVersion: '3' },
    );
    const transformed: string[] = [];
    const inf = new Informer<CM>({ listerWatcher: lw, ...keeping(transformed), onError: () => undefined });
    inf.start();
    await inf.waitForSync();
    const storedA = inf.get('ns/a');
    lw.listAnswer = { items: [cm('a', '1'), cm('b', '6')], resourceVersion: '7' };
    await eventually(() => expect(inf.stats.lists).toBe(2));
    expect(inf.get('ns/a')).toBe(storedA);
    expect(inf.get('ns/b')?.metadata?.resourceVersion).toBe('6');
    expect(transformed).toEqual(['a@1', 'b@2', 'b@6']);
    // The relist's LIST offers its decoder the store: `a` at its version is the stored copy.
    expect(lw.lists[1]?.held?.at('ns', 'a', '1')).toBe(storedA);
    expect(lw.lists[1]?.held?.at('ns', 'a', '2')).toBeUndefined();
    await inf.stop();
  });
});
