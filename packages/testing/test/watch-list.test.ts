import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';

// biome-ignore lint/suspicious/noExplicitAny: assertions dig into arbitrary wire JSON
type Wire = any;

const END = 'k8s.io/initial-events-end';

describe('watch-list streams (KEP-3157) as a v1.36 API server serves them', { timeout: 30_000 }, () => {
  let server: ApiServer;
  const ns = 'kube-system';
  const path = `/api/v1/namespaces/${ns}/configmaps`;

  beforeAll(async () => {
    // Periodic bookmarks out of the way: every BOOKMARK seen here is the initial-events-end one.
    server = await startApiServer({ historyWindow: 5, bookmarkIntervalMs: 60_000 });
    const cms = server.resource('v1', 'configmaps');
    for (const name of ['a', 'b', 'c']) server.registry.create(cms, ns, { metadata: { name } });
  });
  afterAll(async () => {
    await server.close();
  });

  /** Reads a watch's events until `until` holds (or the stream ends), then hangs up. */
  async function readWatch(query: string, until: (events: Wire[]) => boolean): Promise<Wire[]> {
    const ac = new AbortController();
    const res = await fetch(`${server.url}${path}?watch=true&${query}`, { signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const events: Wire[] = [];
    let buf = '';
    const decoder = new TextDecoder();
    try {
      while (!until(events)) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          events.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
      }
    } finally {
      ac.abort();
    }
    return events;
  }

  const summary = (events: Wire[]) =>
    events.map((e) =>
      e.type === 'BOOKMARK'
        ? `BOOKMARK ${e.object.metadata.annotations?.[END]}`
        : `${e.type} ${e.object.metadata.name}`,
    );

  it('sends the current state as ADDED events, the annotated bookmark at the current version, then changes', async () => {
    const cms = server.resource('v1', 'configmaps');
    const rv = server.store.resourceVersion;
    const events = await readWatch(
      'sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=',
      (evs) => {
        if (evs.length === 4) server.registry.create(cms, ns, { metadata: { name: 'later' } });
        return evs.length >= 5;
      },
    );
    expect(summary(events)).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'BOOKMARK true', 'ADDED later']);
    expect(events[3].object).toEqual({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(rv), annotations: { [END]: 'true' } },
    });
    server.registry.delete(cms, ns, 'later');
  });

  it('from an old, compacted resourceVersion it sends the current state ("not older than"), not 410', async () => {
    const cms = server.resource('v1', 'configmaps');
    const old = server.store.resourceVersion;
    for (let i = 0; i < 10; i++) server.registry.create(cms, 'default', { metadata: { name: `churn-${i}` } });
    server.faults.compactHistory();
    const events = await readWatch(
      `sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=${old}`,
      (evs) => evs.some((e) => e.type === 'BOOKMARK'),
    );
    expect(summary(events)).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'BOOKMARK true']);
    expect(events[3].object.metadata.resourceVersion).toBe(String(server.store.resourceVersion));
  });

  it('without allowWatchBookmarks the initial state comes without its end bookmark', async () => {
    const cms = server.resource('v1', 'configmaps');
    const events = await readWatch('sendInitialEvents=true&resourceVersionMatch=NotOlderThan', (evs) => {
      if (evs.length === 3) server.registry.create(cms, ns, { metadata: { name: 'd' } });
      return evs.length >= 4;
    });
    expect(summary(events)).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'ADDED d']);
    server.registry.delete(cms, ns, 'd');
  });

  it('defaults a watch from "" or "0" to sendInitialEvents, so it too ends its initial state with the bookmark', async () => {
    for (const rv of ['', '0']) {
      const events = await readWatch(`allowWatchBookmarks=true&resourceVersion=${rv}`, (evs) =>
        evs.some((e) => e.type === 'BOOKMARK'),
      );
      expect(summary(events)).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'BOOKMARK true']);
    }
  });

  it('sendInitialEvents=false starts at the given version with no initial state', async () => {
    const cms = server.resource('v1', 'configmaps');
    const events = await readWatch(
      'sendInitialEvents=false&resourceVersionMatch=NotOlderThan&resourceVersion=',
      (evs) => {
        if (evs.length === 0) server.registry.create(cms, ns, { metadata: { name: 'e' } });
        return evs.length >= 1;
      },
    );
    expect(summary(events)).toEqual(['ADDED e']);
    server.registry.delete(cms, ns, 'e');
  });

  it.each([
    [
      'sendInitialEvents=true',
      'resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      ['FieldValueForbidden'],
    ],
    [
      'resourceVersionMatch=NotOlderThan&resourceVersion=5',
      'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
      ['FieldValueForbidden'],
    ],
    [
      'sendInitialEvents=true&resourceVersionMatch=Exact&allowWatchBookmarks=true',
      '[resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]',
      ['FieldValueForbidden', 'FieldValueNotSupported'],
    ],
  ])('refuses %s with a 422 on ListOptions, as ValidateListOptions words it', async (query, why, reasons) => {
    const res = await fetch(`${server.url}${path}?watch=true&${query}`);
    const body = (await res.json()) as Wire;
    expect(res.status).toBe(422);
    expect(body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
    expect(body.message).toBe(`ListOptions.meta.k8s.io "" is invalid: ${why}`);
    expect(body.details).toMatchObject({ group: 'meta.k8s.io', kind: 'ListOptions', name: '' });
    expect(body.details.causes.map((c: Wire) => c.reason)).toEqual(reasons);
    expect(body.details.causes.every((c: Wire) => c.field === 'resourceVersionMatch')).toBe(true);
  });
});
