import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiStatusError, Informer, KubeListerWatcher } from '../src/index';
import { setRestClientMetrics } from '../src/rest-client-metrics-entry';
import { plainHttpKubeConfig } from './plain-http-kube-config';
import { encode, envelope, recordResponseSizes, seconds, T, watchFrame } from './protobuf-fixtures';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const SLICES = { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices' };

function slice(i: number, rv: number) {
  return {
    metadata: {
      name: `s${i}`,
      namespace: 'ns',
      resourceVersion: String(rv),
      creationTimestamp: { seconds: seconds('2026-01-01T00:00:00Z') },
      labels: { 'kubernetes.io/service-name': `svc${i}` },
      managedFields: [{ manager: 'm', fieldsV1: { Raw: Buffer.from('{"f:x":{}}') } }],
    },
    endpoints: [
      { addresses: [`10.0.0.${i}`], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `p${i}` } },
    ],
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    addressType: 'IPv4',
  };
}

/** What the informer stores for `slice(i, rv)`: the JSON, managedFields gone (the default transform). */
function sliceJson(i: number, rv: number, withTargetRef: boolean) {
  return {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: {
      name: `s${i}`,
      namespace: 'ns',
      resourceVersion: String(rv),
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'kubernetes.io/service-name': `svc${i}` },
    },
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: [`10.0.0.${i}`],
        conditions: { ready: true },
        ...(withTargetRef ? { targetRef: { kind: 'Pod', name: `p${i}` } } : {}),
      },
    ],
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  };
}

function sliceFrame(type: string, i: number, rv: number): Buffer {
  return watchFrame(type, envelope('discovery.k8s.io/v1', 'EndpointSlice', encode(T.slice, slice(i, rv))));
}

function bookmarkFrame(rv: number): Buffer {
  const object = {
    metadata: { resourceVersion: String(rv), annotations: { 'k8s.io/initial-events-end': 'true' } },
  };
  return watchFrame('BOOKMARK', envelope('discovery.k8s.io/v1', 'EndpointSlice', encode(T.slice, object)));
}

function statusBody(code: number, reason: string, message: string, retryAfterSeconds = 0): Buffer {
  const status = { metadata: {}, status: 'Failure', message, reason, details: { retryAfterSeconds }, code };
  return envelope('v1', 'Status', encode(T.status, status));
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let server: Server | undefined;
const requests: { url: string; accept: string | undefined }[] = [];

async function serve(handler: Handler): Promise<Server> {
  requests.length = 0;
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', accept: req.headers.accept });
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Writes `stream` in chunks of `size` bytes (frames split across chunks), then leaves the watch open. */
function writeChunked(res: ServerResponse, stream: Buffer, size: number): void {
  res.writeHead(200, { 'content-type': `${PROTOBUF};stream=watch` });
  for (let i = 0; i < stream.length; i += size) res.write(stream.subarray(i, i + size));
}

afterEach(async () => {
  setRestClientMetrics(undefined);
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
});

describe('KubeListerWatcher with protobuf', { timeout: 15_000 }, () => {
  it('an informer syncs from a protobuf watch-list stream split across chunks, targetRef left out', async () => {
    const stream = Buffer.concat([sliceFrame('ADDED', 1, 11), sliceFrame('ADDED', 2, 12), bookmarkFrame(12)]);
    const s = await serve((_req, res) => writeChunked(res, stream, 7));
    const informer = new Informer({
      kubeConfig: plainHttpKubeConfig(s),
      resource: SLICES,
      // Annotations left out too: the end bookmark's must still be read, or this never syncs.
      protobuf: { omit: ['endpoints.targetRef', 'metadata.annotations'] },
      onError: () => {},
    });
    informer.start();
    await informer.waitForSync();
    expect(informer.get('ns/s1')).toStrictEqual(sliceJson(1, 11, false));
    expect(informer.get('ns/s2')).toStrictEqual(sliceJson(2, 12, false));
    expect(informer.lastSyncResourceVersion).toBe('12');
    expect(requests[0]?.accept).toBe(`${PROTOBUF}, application/json`);
    expect(requests[0]?.url).toContain('sendInitialEvents=true');
    await informer.stop();
  });

  it('lists a protobuf EndpointSliceList page (items through `each`) and counts its bytes', async () => {
    const body = envelope(
      'discovery.k8s.io/v1',
      'EndpointSliceList',
      encode(T.sliceList, {
        metadata: { resourceVersion: '40', continue: 'next' },
        items: [slice(1, 30), slice(2, 31)],
      }),
    );
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': PROTOBUF });
      res.end(body);
    });
    const sizes = recordResponseSizes();
    const lw = new KubeListerWatcher(plainHttpKubeConfig(s), SLICES, { protobuf: {} });
    const page = await lw.list({ limit: 2 }, new AbortController().signal, (item) => {
      delete item.metadata?.managedFields;
      return item;
    });
    const { kind: _k, apiVersion: _a, ...item1 } = sliceJson(1, 30, true);
    expect(page.items[0]).toStrictEqual(item1);
    expect(page.items).toHaveLength(2);
    expect(page.resourceVersion).toBe('40');
    expect(page.continue).toBe('next');
    expect(page.transformed).toBe(true);
    expect(sizes).toEqual([body.length]);
  });

  it('a protobuf error body becomes the same ApiStatusError as its JSON form', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(429, { 'content-type': PROTOBUF });
      res.end(statusBody(429, 'TooManyRequests', 'slow down', 7));
    });
    const lw = new KubeListerWatcher(plainHttpKubeConfig(s), SLICES, { protobuf: {} });
    const err = await lw.list({}, new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiStatusError);
    expect(err).toMatchObject({
      code: 429,
      reason: 'TooManyRequests',
      message: 'slow down',
      retryAfterSeconds: 7,
    });
  });

  it('a watch ERROR event 410 in protobuf makes the reflector stream again from ""', async () => {
    const expired = watchFrame('ERROR', statusBody(410, 'Expired', 'too old resource version'));
    const s = await serve((_req, res, n) => {
      if (n === 1) {
        writeChunked(res, expired, 5);
        res.end();
      } else writeChunked(res, Buffer.concat([sliceFrame('ADDED', 3, 50), bookmarkFrame(50)]), 1000);
    });
    const errors: unknown[] = [];
    const informer = new Informer({
      kubeConfig: plainHttpKubeConfig(s),
      resource: SLICES,
      protobuf: {},
      backoff: { initialMs: 1, maxMs: 1 },
      onError: (e) => errors.push(e),
    });
    informer.start();
    await informer.waitForSync();
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['s3']);
    // An expiry is no error to report: the reflector counts it and streams again from "".
    expect(errors).toEqual([]);
    expect(informer.stats.expired).toBe(1);
    expect(requests).toHaveLength(2);
    expect(requests[1]?.url).not.toContain('resourceVersion=');
    await informer.stop();
  });

  it('a server answering JSON is still read as JSON', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const obj = {
        kind: 'EndpointSlice',
        apiVersion: 'discovery.k8s.io/v1',
        metadata: { name: 'j', namespace: 'ns', resourceVersion: '9' },
        addressType: 'IPv4',
        endpoints: null,
        ports: null,
      };
      const bookmark = {
        kind: 'EndpointSlice',
        apiVersion: 'discovery.k8s.io/v1',
        metadata: { resourceVersion: '9', annotations: { 'k8s.io/initial-events-end': 'true' } },
      };
      res.write(
        `${JSON.stringify({ type: 'ADDED', object: obj })}\n${JSON.stringify({ type: 'BOOKMARK', object: bookmark })}\n`,
      );
    });
    const informer = new Informer({ kubeConfig: plainHttpKubeConfig(s), resource: SLICES, protobuf: {} });
    informer.start();
    await informer.waitForSync();
    expect(informer.get('ns/j')?.metadata?.name).toBe('j');
    await informer.stop();
  });

  it('an undecodable frame ends the watch with WatchDroppedError', async () => {
    const bad = Buffer.from([0, 0, 0, 3, 0x0a, 0x05, 0x41]);
    const s = await serve((_req, res) => writeChunked(res, bad, 100));
    const lw = new KubeListerWatcher(plainHttpKubeConfig(s), SLICES, { protobuf: {} });
    const opts = {
      resourceVersion: '1',
      allowWatchBookmarks: true,
      timeoutSeconds: 60,
      inactivityTimeoutMs: 10_000,
    };
    await expect(lw.watch(opts, () => {}, new AbortController().signal)).rejects.toThrow(
      /undecodable watch event/,
    );
  });

  it('protobuf is refused up front for a resource it does not decode, and with a given listerWatcher', () => {
    const kc = plainHttpKubeConfig({ address: () => ({ port: 1 }) } as unknown as Server);
    expect(() => new KubeListerWatcher(kc, { apiVersion: 'v1', plural: 'pods' }, { protobuf: {} })).toThrow(
      /v1 pods/,
    );
    const lw = new KubeListerWatcher(kc, SLICES);
    expect(() => new Informer({ listerWatcher: lw, protobuf: {} })).toThrow(/protobuf/);
  });
});
