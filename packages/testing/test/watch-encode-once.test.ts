import { type IncomingMessage, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/apiserver/index';

// Issue #54: many kube-proxies starting at once must cost the API server one JSON encode per
// object, not one per object per watch (kube-apiserver's cachingObject), and a change delivered
// to every watch one encode; what each watch receives is unchanged. Counts, not times.

// biome-ignore lint/suspicious/noExplicitAny: assertions dig into arbitrary wire JSON
type Wire = any;

const COUNT = 50;
const WATCHES = 3;
const NS = 'default';
const WATCH_LIST =
  '/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true' +
  '&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=';

/** A watch's events as they arrive, kept open until the test ends. */
class Watch {
  readonly events: Wire[] = [];
  private buf = '';
  private waiter: (() => void) | undefined;

  constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.buf += chunk;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        this.events.push(JSON.parse(this.buf.slice(0, nl)));
        this.buf = this.buf.slice(nl + 1);
      }
      this.waiter?.();
    });
  }

  /** Resolves once `count` events arrived. */
  async until(count: number): Promise<Wire[]> {
    while (this.events.length < count) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.events;
  }
}

function open(server: ApiServer, path: string): Promise<Watch> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, (res) => resolve(new Watch(res)));
    req.on('error', reject);
    req.end();
  });
}

describe('watch events encode each object once for every watch (issue #54)', { timeout: 30_000 }, () => {
  let server: ApiServer;
  let watches: Watch[] = [];

  beforeAll(async () => {
    server = await startApiServer({ bookmarkIntervalMs: 600_000 });
    const cms = server.resource('v1', 'configmaps');
    for (let i = 0; i < COUNT; i++)
      server.registry.create(cms, NS, { metadata: { name: `cm-${i}` }, data: { n: String(i) } });
  });
  afterAll(async () => {
    for (const w of watches) w.res.destroy();
    await server.close();
  });

  it(`${WATCHES} watch-list starts encode the ${COUNT} objects once and each receives them all`, async () => {
    const before = server.watchStreams.objectEncodes;
    watches = await Promise.all(Array.from({ length: WATCHES }, () => open(server, WATCH_LIST)));
    const received = await Promise.all(watches.map((w) => w.until(COUNT + 1)));
    expect(server.watchStreams.objectEncodes - before).toBe(COUNT);
    const stored = server.store.list('/configmaps', NS).map((o) => JSON.parse(JSON.stringify(o)));
    expect(stored).toHaveLength(COUNT);
    for (const events of received) {
      expect(events.slice(0, COUNT)).toEqual(stored.map((object) => ({ type: 'ADDED', object })));
      expect(events[COUNT].type).toBe('BOOKMARK');
    }
  });

  it('a change reaches every watch as the same text from one encode', async () => {
    const before = server.watchStreams.objectEncodes;
    const updated = server.registry.update(server.resource('v1', 'configmaps'), NS, 'cm-7', {
      metadata: { name: 'cm-7' },
      data: { n: 'seven' },
    });
    const events = await Promise.all(watches.map((w) => w.until(COUNT + 2)));
    expect(server.watchStreams.objectEncodes - before).toBe(1);
    for (const e of events)
      expect(e[COUNT + 1]).toEqual({ type: 'MODIFIED', object: JSON.parse(JSON.stringify(updated)) });
  });
});
