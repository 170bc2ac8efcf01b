import { type IncomingMessage, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, type InitialEventsSent, startApiServer } from '../src/apiserver/index';

// biome-ignore lint/suspicious/noExplicitAny: assertions dig into arbitrary wire JSON
type Wire = any;

const END = 'k8s.io/initial-events-end';
/** ConfigMaps in the stream, ~4 kB each: ~24 MB, several times what loopback sockets buffer. */
const COUNT = 6000;
const PAYLOAD = 'x'.repeat(4000);
const NS = 'default';
const STREAM =
  '/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true' +
  '&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=';

function open(server: ApiServer, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function body(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk;
  return text;
}

/** Reads a watch's lines until `count` events arrived, then hangs up. */
function readEvents(res: IncomingMessage, count: number): Promise<Wire[]> {
  return new Promise((resolve, reject) => {
    const events: Wire[] = [];
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        events.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
      if (events.length >= count) {
        res.destroy();
        resolve(events);
      }
    });
    res.on('error', reject);
    res.resume();
  });
}

describe('a watch-list stream is sent in chunks, at the pace of its reader (issue #54)', {
  timeout: 60_000,
}, () => {
  let server: ApiServer;

  beforeAll(async () => {
    server = await startApiServer({ bookmarkIntervalMs: 600_000 });
    const cms = server.resource('v1', 'configmaps');
    for (let i = 0; i < COUNT; i++)
      server.registry.create(cms, NS, {
        metadata: { name: `cm-${String(i).padStart(5, '0')}` },
        data: { payload: PAYLOAD },
      });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers other requests while a reader that does not read holds the stream, then sends it all, changes after the bookmark', async () => {
    const sent: InitialEventsSent[] = [];
    server.watchStreams.onInitialEventsSent = (s) => sent.push(s);
    const snapshot = server.store.resourceVersion;
    const stream = await open(server, STREAM);
    expect(stream.statusCode).toBe(200);
    stream.pause();

    // The server's event loop is free while the stream waits for its reader.
    const other = await open(server, '/api/v1/namespaces');
    expect(other.statusCode).toBe(200);
    expect(JSON.parse(await body(other)).items.length).toBeGreaterThan(0);
    // ...and it has not written the whole state: it waits for the socket to drain.
    expect(sent).toEqual([]);

    // A change committed mid-stream comes after the end bookmark, which names the snapshot.
    server.registry.create(server.resource('v1', 'configmaps'), NS, { metadata: { name: 'late' } });
    const events = await readEvents(stream, COUNT + 2);
    server.watchStreams.onInitialEventsSent = undefined;

    expect(events.slice(0, COUNT).every((e) => e.type === 'ADDED')).toBe(true);
    expect(events[0].object.metadata.name).toBe('cm-00000');
    expect(events[COUNT - 1].object.metadata.name).toBe(`cm-${String(COUNT - 1).padStart(5, '0')}`);
    expect(events[COUNT].type).toBe('BOOKMARK');
    expect(events[COUNT].object.metadata).toEqual({
      resourceVersion: String(snapshot),
      annotations: { [END]: 'true' },
    });
    expect(events[COUNT + 1].type).toBe('ADDED');
    expect(events[COUNT + 1].object.metadata.name).toBe('late');

    expect(sent).toHaveLength(1);
    const s = sent[0] as InitialEventsSent;
    expect(s.events).toBe(COUNT);
    expect(s.bytes).toBeGreaterThan(COUNT * PAYLOAD.length);
    // About 64 kB a write, with the event loop given back between writes.
    expect(s.chunks).toBeGreaterThanOrEqual(Math.floor(s.bytes / (64 * 1024 + 5000)));
    expect(s.chunks).toBeLessThanOrEqual(Math.ceil(s.bytes / (64 * 1024)) + 1);
    expect(s.yields).toBe(s.chunks - 1);
    server.registry.delete(server.resource('v1', 'configmaps'), NS, 'late');
  });

  it('a reader that hangs up mid-stream stops the encoding', async () => {
    const sent: InitialEventsSent[] = [];
    server.watchStreams.onInitialEventsSent = (s) => sent.push(s);
    const stream = await open(server, STREAM);
    const first = await readEvents(stream, 10);
    expect(first[0].type).toBe('ADDED');
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (sent.length > 0) resolve();
        else setTimeout(poll, 10);
      };
      poll();
    });
    server.watchStreams.onInitialEventsSent = undefined;
    expect(sent[0]?.events).toBeLessThan(COUNT);
  });

  it('with the WatchList feature gate off, sendInitialEvents is refused (422) and a watch from "" is the old synthetic ADDED', async () => {
    server.watchStreams.watchList = false;
    try {
      const refused = await open(server, STREAM);
      expect(refused.statusCode).toBe(422);
      const status = JSON.parse(await body(refused));
      expect(status.reason).toBe('Invalid');
      expect(status.details.causes).toEqual([
        {
          reason: 'FieldValueForbidden',
          field: 'sendInitialEvents',
          message:
            'Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
        },
      ]);
      const plain = await open(
        server,
        '/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=',
      );
      expect(plain.statusCode).toBe(200);
      server.registry.create(server.resource('v1', 'configmaps'), NS, { metadata: { name: 'zz-after' } });
      const events = await readEvents(plain, COUNT + 1);
      expect(events.map((e) => e.type)).not.toContain('BOOKMARK');
      expect(events[COUNT].object.metadata.name).toBe('zz-after');
    } finally {
      server.watchStreams.watchList = true;
    }
  });
});
