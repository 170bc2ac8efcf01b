import type { V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  ApiStatusError,
  IndexedStore,
  Informer,
  type ListerWatcher,
  type ListOptions,
  type ListPage,
  Reflector,
  type WatchEvent,
  type WatchOptions,
  type Wire,
} from '../src/index';
import { eventually } from './helpers';

const cm = (name: string, rv: string): Wire<V1ConfigMap> => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

/** A ListerWatcher driven by a script of answers, recording every call. */
class ScriptedListerWatcher implements ListerWatcher<Wire<V1ConfigMap>> {
  readonly lists: ListOptions[] = [];
  readonly watches: WatchOptions[] = [];
  constructor(
    private readonly listAnswers: (ListPage<Wire<V1ConfigMap>> | Error)[],
    private readonly watchAnswers: ((emit: (e: WatchEvent<Wire<V1ConfigMap>>) => void) => Promise<void>)[],
  ) {}

  async list(options: ListOptions): Promise<ListPage<Wire<V1ConfigMap>>> {
    this.lists.push(options);
    const a = this.listAnswers.shift();
    if (!a) return new Promise(() => undefined);
    if (a instanceof Error) throw a;
    return a;
  }

  async watch(
    options: WatchOptions,
    onEvent: (e: WatchEvent<Wire<V1ConfigMap>>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.watches.push(options);
    const a = this.watchAnswers.shift();
    if (!a) {
      // Idle forever, until stopped.
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return;
    }
    return a(onEvent);
  }
}

describe('Reflector with a scripted ListerWatcher', { timeout: 30_000 }, () => {
  it('restarts a paginated list whose continue token expired', async () => {
    const lw = new ScriptedListerWatcher(
      [
        { items: [cm('a', '1')], resourceVersion: '10', continue: 'c1' },
        new ApiStatusError(410, 'Expired', 'continue too old'),
        { items: [cm('a', '1')], resourceVersion: '20', continue: 'c2' },
        { items: [cm('b', '15')], resourceVersion: '20' },
      ],
      [],
    );
    const inf = new Informer<Wire<V1ConfigMap>>({ listerWatcher: lw, pageSize: 1 });
    inf.start();
    await inf.waitForSync();
    expect(lw.lists.map((l) => l.continue)).toEqual([undefined, 'c1', undefined, 'c2']);
    expect(lw.lists.every((l) => l.limit === 1)).toBe(true);
    expect(inf.store.keys().sort()).toEqual(['ns/a', 'ns/b']);
    await eventually(() => expect(lw.watches).toHaveLength(1));
    expect(lw.watches[0]).toMatchObject({ resourceVersion: '20', allowWatchBookmarks: true });
    await inf.stop();
  });

  it('relists on an ERROR event with code 410 and resumes from bookmarks otherwise', async () => {
    const lw = new ScriptedListerWatcher(
      [
        { items: [cm('a', '1'), cm('b', '2')], resourceVersion: '5' },
        { items: [cm('b', '9')], resourceVersion: '12' },
      ],
      [
        async (emit) => {
          emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } });
        },
        async (emit) => {
          emit({
            type: 'ERROR',
            object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } as never,
          });
        },
      ],
    );
    const deleted: string[] = [];
    const updated: string[] = [];
    const inf = new Informer<Wire<V1ConfigMap>>({ listerWatcher: lw, backoff: { initialMs: 1, maxMs: 2 } });
    inf.onDelete((o) => deleted.push(o.metadata?.name ?? ''));
    inf.onUpdate((_o, n) => updated.push(`${n.metadata?.name}@${n.metadata?.resourceVersion}`));
    inf.start();
    await eventually(() => expect(lw.lists).toHaveLength(2));
    await eventually(() => expect(lw.watches).toHaveLength(3));
    // The bookmark moved the resume point; the 410 forced the relist, which found `a` gone.
    expect(lw.watches.map((w) => w.resourceVersion)).toEqual(['5', '7', '12']);
    expect(deleted).toEqual(['a']);
    expect(updated).toEqual(['b@9']);
    expect(inf.stats.expired).toBe(1);
    await inf.stop();
  });

  it('waits at least Retry-After on 429 and backs off exponentially on errors', async () => {
    const started: number[] = [];
    const lw: ListerWatcher<Wire<V1ConfigMap>> = {
      async list() {
        started.push(Date.now());
        if (started.length === 1) throw new ApiStatusError(429, 'TooManyRequests', 'slow down', 0.2);
        if (started.length < 4) throw new Error('connection refused');
        return { items: [], resourceVersion: '1' };
      },
      watch: (_o, _e, signal) =>
        new Promise((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => resolve());
        }),
    };
    const inf = new Informer<Wire<V1ConfigMap>>({
      listerWatcher: lw,
      backoff: { initialMs: 20, maxMs: 1000, jitter: 0 },
    });
    inf.start();
    await inf.waitForSync();
    const gaps = started.slice(1).map((t, i) => t - (started[i] as number));
    expect(gaps[0]).toBeGreaterThanOrEqual(190);
    // 40 ms then 80 ms: the backoff kept growing after the Retry-After wait.
    expect(gaps[1]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThanOrEqual(75);
    await inf.stop();
  });

  it('forgets a wait for the first list that its caller gave up on, however often it asks', async () => {
    // Never started: its first list never comes, as against an API server that does not answer.
    const lw = new ScriptedListerWatcher([], []);
    const reflector = new Reflector<Wire<V1ConfigMap>>(lw, new IndexedStore(), () => undefined);
    for (let i = 0; i < 100; i++) {
      const giveUp = new AbortController();
      const wait = reflector.waitForSync(giveUp.signal);
      giveUp.abort(new Error('gave up'));
      await expect(wait).rejects.toThrow('gave up');
    }
    expect(reflector.syncWaiterCount).toBe(0);
    // One that waits on is still held, and one already given up on is refused at once.
    const pending = reflector.waitForSync();
    expect(reflector.syncWaiterCount).toBe(1);
    await expect(reflector.waitForSync(AbortSignal.abort(new Error('late')))).rejects.toThrow('late');
    await reflector.stop();
    await expect(pending).rejects.toThrow();
  });
});
