import type { V1ConfigMap } from '@kubernetes/client-node';
import type { ListerWatcher, ListOptions, ListPage, WatchEvent, WatchOptions, Wire } from '../src/index';

// A scripted watch-list server for the reflector's tests: ConfigMaps named and versioned by the
// test, each watch answered by the next step of the script.

export type CM = Wire<V1ConfigMap>;
export type Emit = (e: WatchEvent<CM>) => void;

export const cm = (name: string, rv: string): CM => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

/** The bookmark that ends a watch-list stream's initial events, at `rv`. */
export const endBookmark = (rv: string): WatchEvent<CM> => ({
  type: 'BOOKMARK',
  object: { metadata: { resourceVersion: rv, annotations: { 'k8s.io/initial-events-end': 'true' } } },
});

/** A ListerWatcher that supports watch-list, answering each watch with the next script step (then idling until aborted). */
export class StreamScript implements ListerWatcher<CM> {
  readonly supportsWatchList = true;
  readonly lists: ListOptions[] = [];
  readonly watches: WatchOptions[] = [];
  constructor(
    private readonly watchSteps: ((emit: Emit, signal: AbortSignal) => Promise<void>)[],
    /** What each LIST answers (a copy); a test may change it between lists. */
    public listAnswer: ListPage<CM> = { items: [cm('listed', '3')], resourceVersion: '3' },
  ) {}

  async list(options: ListOptions): Promise<ListPage<CM>> {
    this.lists.push(options);
    return structuredClone(this.listAnswer);
  }

  async watch(options: WatchOptions, onEvent: Emit, signal: AbortSignal): Promise<void> {
    this.watches.push(options);
    const step = this.watchSteps.shift();
    if (step) return step(onEvent, signal);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
}
