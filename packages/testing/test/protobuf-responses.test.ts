import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/apiserver/index';
import { k8sProtobufType } from '../src/apiserver/k8s-proto-schema';
import { negotiateMedia } from '../src/apiserver/media-negotiation';
import { decodeEnvelope, goView, splitFrames } from './fixtures/protobuf-views';

// Issue #54: the in-process API server answers protobuf for Services and EndpointSlices as a
// v1.36 kube-apiserver does (GET, LIST, WATCH, watch-list, and their errors), negotiated from
// Accept as the real server negotiates it; every other kind, and JSON clients, as before. Each
// protobuf answer is decoded with protobufjs and compared with the JSON the same request gives.

// biome-ignore lint/suspicious/noExplicitAny: assertions dig into arbitrary wire JSON
type Wire = any;

const PB = 'application/vnd.kubernetes.protobuf';
const CLIENT_GO_PB = `${PB}, application/json`;
const SERVICE = 'k8s.io.api.core.v1.Service';
const SLICE = 'k8s.io.api.discovery.v1.EndpointSlice';
const STATUS = 'k8s.io.apimachinery.pkg.apis.meta.v1.Status';
const NS = 'default';
const SVC_PATH = `/api/v1/namespaces/${NS}/services`;
const SLICE_PATH = `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`;

describe('Accept negotiation as kube-apiserver negotiates it', () => {
  const pick = (accept: string) => negotiateMedia(accept);
  it('prefers by q, then by specificity, then by order; */* and application/* are JSON', () => {
    expect(pick('')).toEqual({ media: 'json' });
    expect(pick('*/*')).toEqual({ media: 'json' });
    expect(pick('*')).toEqual({ media: 'json' });
    expect(pick('application/*')).toEqual({ media: 'json' });
    expect(pick(CLIENT_GO_PB)).toEqual({ media: 'protobuf' });
    expect(pick(`application/json,${PB}`)).toEqual({ media: 'json' });
    expect(pick(`application/json;q=0.5, ${PB}`)).toEqual({ media: 'protobuf' });
    expect(pick(`${PB};q=0.9, */*`)).toEqual({ media: 'json' });
    expect(pick(`*/*;q=0.8, ${PB};q=0.8`)).toEqual({ media: 'protobuf' });
    expect(pick(`${PB};q=0, text/html`)).toEqual({ media: 'protobuf' });
    expect(pick('text/html')).toBeUndefined();
    expect(pick('application/yaml, application/json')).toEqual({ media: 'yaml' });
  });
  it('reads stream= and as= as the endpoint allows them', () => {
    expect(pick(`${PB};stream=watch`)).toEqual({ media: 'protobuf' });
    expect(pick(`${PB};stream=other, application/json`)).toEqual({ media: 'json' });
    expect(pick('application/json;as=Table;v=v1;g=meta.k8s.io, application/json')).toEqual({
      media: 'json',
      as: 'Table',
    });
    expect(pick(`${PB};as=Pod, application/json`)).toEqual({ media: 'json' });
    expect(pick(`${PB}; q=0.5 ;x=y=z, application/json;q=0.4`)).toEqual({ media: 'protobuf' });
  });
});

describe('protobuf answers for Services and EndpointSlices (issue #54)', { timeout: 30_000 }, () => {
  let server: ApiServer;

  beforeAll(async () => {
    server = await startApiServer({ historyWindow: 5, bookmarkIntervalMs: 60_000 });
    const services = server.resource('v1', 'services');
    const slices = server.resource('discovery.k8s.io/v1', 'endpointslices');
    for (const name of ['a', 'b', 'c']) {
      server.registry.create(services, NS, {
        metadata: { name, labels: { app: name } },
        spec: { ports: [{ name: 'http', port: 80, targetPort: name === 'b' ? 'web' : 8080 }] },
      });
      server.registry.create(slices, NS, {
        metadata: { name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1' }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      });
    }
  });
  afterAll(async () => {
    await server.close();
  });

  async function get(path: string, accept: string): Promise<{ status: number; type: string; body: Buffer }> {
    const res = await fetch(`${server.url}${path}`, { headers: { accept } });
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: Buffer.from(await res.arrayBuffer()),
    };
  }
  const json = async (path: string): Promise<Wire> =>
    JSON.parse((await get(path, 'application/json')).body.toString());

  it('GET of one object: the envelope, decoding to the JSON answer', async () => {
    for (const [path, typeName, kind] of [
      [`${SVC_PATH}/b`, SERVICE, 'Service'],
      [`${SLICE_PATH}/a-1`, SLICE, 'EndpointSlice'],
    ] as const) {
      const pb = await get(path, CLIENT_GO_PB);
      expect(pb.status).toBe(200);
      expect(pb.type).toBe(PB);
      const back = decodeEnvelope(pb.body, typeName);
      expect(back.kind).toBe(kind);
      // contentEncoding and contentType: present, empty (Go writes non-pointer strings).
      expect([back.unknown.contentEncoding, back.unknown.contentType]).toEqual(['', '']);
      expect(pb.body.subarray(-4).toString('hex')).toBe('1a002200');
      expect(back.object).toEqual(goView(typeName, await json(path)));
    }
    const svc = decodeEnvelope((await get(`${SVC_PATH}/b`, PB)).body, SERVICE).object as Wire;
    expect(svc.spec.ports[0].targetPort).toBe('web');
  });

  it('LIST, paginated: ServiceList/EndpointSliceList pages decoding to the JSON pages', async () => {
    const listType = k8sProtobufType('k8s.io.api.core.v1.ServiceList');
    const pb = await get(`${SVC_PATH}?limit=2`, CLIENT_GO_PB);
    expect(pb.type).toBe(PB);
    const env = decodeEnvelope(pb.body, 'k8s.io.api.core.v1.ServiceList');
    expect([env.apiVersion, env.kind]).toEqual(['v1', 'ServiceList']);
    const list = listType.toObject(listType.decode(env.unknown.raw as Uint8Array), { longs: Number }) as Wire;
    const page = await json(`${SVC_PATH}?limit=2`);
    expect(list.metadata.resourceVersion).toBe(page.metadata.resourceVersion);
    expect(list.metadata.remainingItemCount).toBe(1);
    const rest = await get(`${SVC_PATH}?limit=2&continue=${list.metadata.continue}`, CLIENT_GO_PB);
    const restList = listType.toObject(
      listType.decode(decodeEnvelope(rest.body, 'k8s.io.api.core.v1.ServiceList').unknown.raw as Uint8Array),
    ) as Wire;
    const items = [...list.items, ...restList.items].map((i: Wire) => i.metadata.name);
    expect(items).toEqual(['a', 'b', 'c']);
    const all = decodeEnvelope((await get(SLICE_PATH, PB)).body, 'k8s.io.api.discovery.v1.EndpointSliceList');
    const jsonAll = await json(SLICE_PATH);
    expect(all.object).toEqual(goView('k8s.io.api.discovery.v1.EndpointSliceList', jsonAll));
  });

  it('WATCH and watch-list: length-prefixed frames decoding to the JSON events', async () => {
    const query =
      'watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true';
    const pb = await readFrames(`${SLICE_PATH}?${query}`, 4);
    expect(pb.type).toBe(`${PB};stream=watch`);
    const jsonEvents = await readJsonEvents(`${SLICE_PATH}?${query}`, 4);
    expect(pb.frames.map((f) => f.type)).toEqual(['ADDED', 'ADDED', 'ADDED', 'BOOKMARK']);
    pb.frames.forEach((f, i) => {
      const back = decodeEnvelope(f.raw, SLICE);
      expect([back.apiVersion, back.kind]).toEqual(['discovery.k8s.io/v1', 'EndpointSlice']);
      expect(back.object).toEqual(goView(SLICE, jsonEvents[i].object));
    });
    const bookmark = decodeEnvelope(pb.frames[3]?.raw ?? new Uint8Array(), SLICE).object as Wire;
    expect(bookmark.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });

    // A plain watch from a version: the change as a MODIFIED frame.
    const rv = (await json(SVC_PATH)).metadata.resourceVersion;
    const pending = readFrames(`${SVC_PATH}?watch=true&resourceVersion=${rv}`, 1);
    await new Promise((r) => setTimeout(r, 50));
    const services = server.resource('v1', 'services');
    const current = server.registry.get(services, NS, 'a');
    server.registry.update(services, NS, 'a', {
      ...current,
      metadata: { ...current.metadata, labels: { x: 'y' } },
    });
    const changed = await pending;
    expect(changed.frames[0]?.type).toBe('MODIFIED');
    expect(decodeEnvelope(changed.frames[0]?.raw ?? new Uint8Array(), SERVICE).object).toEqual(
      goView(SERVICE, await json(`${SVC_PATH}/a`)),
    );
  });

  it('encodes each stored object once for every protobuf watch and list (the encodings are cached)', async () => {
    const query =
      'watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true';
    const slices = server.resource('discovery.k8s.io/v1', 'endpointslices');
    server.registry.create(slices, NS, {
      metadata: { name: 'fresh' },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.9'] }],
    });
    const before = server.watchStreams.objectEncodes;
    const watches = await Promise.all([1, 2, 3].map(() => readFrames(`${SLICE_PATH}?${query}`, 5)));
    await get(SLICE_PATH, CLIENT_GO_PB);
    // Only the new slice was not yet encoded; three watches and a list sent it.
    expect(server.watchStreams.objectEncodes - before).toBe(1);
    for (const w of watches)
      expect(w.frames.map((f) => f.type)).toEqual(['ADDED', 'ADDED', 'ADDED', 'ADDED', 'BOOKMARK']);
  });

  it('errors as protobuf Status: 404, 400, and a watch too old as an ERROR frame carrying 410', async () => {
    const missing = await get(`${SVC_PATH}/nope`, CLIENT_GO_PB);
    expect([missing.status, missing.type]).toEqual([404, PB]);
    const status = decodeEnvelope(missing.body, STATUS);
    expect([status.apiVersion, status.kind]).toEqual(['v1', 'Status']);
    expect(status.object).toEqual(
      goView(STATUS, JSON.parse((await get(`${SVC_PATH}/nope`, '')).body.toString())),
    );
    expect(status.object).toMatchObject({ code: 404, reason: 'NotFound', status: 'Failure' });

    const badContinue = await get(`${SLICE_PATH}?continue=%%%`, CLIENT_GO_PB);
    expect([badContinue.status, badContinue.type]).toEqual([400, PB]);
    expect(decodeEnvelope(badContinue.body, STATUS).object).toMatchObject({
      code: 400,
      reason: 'BadRequest',
    });

    const tooOld = await readFrames(`${SVC_PATH}?watch=true&resourceVersion=1`, 1);
    expect(tooOld.frames[0]?.type).toBe('ERROR');
    const gone = decodeEnvelope(tooOld.frames[0]?.raw ?? new Uint8Array(), STATUS);
    expect(gone.kind).toBe('Status');
    expect(gone.object).toMatchObject({ code: 410, reason: 'Expired' });
  });

  it('answers JSON for other kinds, JSON clients and Tables', async () => {
    const cm = await get(`/api/v1/namespaces/${NS}/configmaps`, CLIENT_GO_PB);
    expect(cm.type).toBe('application/json');
    expect(JSON.parse(cm.body.toString()).kind).toBe('ConfigMapList');
    const plain = await get(`${SVC_PATH}/a`, 'application/json');
    expect(JSON.parse(plain.body.toString()).kind).toBe('Service');
    const star = await get(`${SVC_PATH}/a`, '*/*');
    expect(star.type).toBe('application/json');
    const table = await get(SVC_PATH, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
    expect(JSON.parse(table.body.toString()).kind).toBe('Table');
    const missing = await get(`${SVC_PATH}/nope`, 'application/json');
    expect([missing.status, missing.type]).toEqual([404, 'application/json']);
  });

  /** Reads a protobuf watch until `count` complete frames arrived, then hangs up. */
  async function readFrames(path: string, count: number) {
    const ac = new AbortController();
    const res = await fetch(`${server.url}${path}`, { headers: { accept: CLIENT_GO_PB }, signal: ac.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let buf = Buffer.alloc(0);
    try {
      while (completeFrames(buf) < count) {
        const { value, done } = await reader.read();
        if (done) break;
        buf = Buffer.concat([buf, value]);
      }
    } finally {
      ac.abort();
    }
    return { type: res.headers.get('content-type') ?? '', frames: splitFrames(buf) };
  }

  async function readJsonEvents(path: string, count: number): Promise<Wire[]> {
    const ac = new AbortController();
    const res = await fetch(`${server.url}${path}`, { signal: ac.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    try {
      while (text.split('\n').length - 1 < count) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
    } finally {
      ac.abort();
    }
    return text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  }
});

/** How many whole frames `buf` holds. */
function completeFrames(buf: Buffer): number {
  let n = 0;
  for (let at = 0; at + 4 <= buf.length; n++) {
    const next = at + 4 + buf.readUInt32BE(at);
    if (next > buf.length) break;
    at = next;
  }
  return n;
}
