import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';

// biome-ignore lint/suspicious/noExplicitAny: assertions dig into arbitrary wire JSON
type Wire = any;

interface Reply {
  status: number;
  body: Record<string, Wire>;
  headers: Headers;
}

describe('API server semantics over raw HTTP', { timeout: 30_000 }, () => {
  let server: ApiServer;
  async function call(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<Reply> {
    const init: RequestInit = { method, headers: { 'Content-Type': contentType } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(server.url + path, init);
    return { status: res.status, body: (await res.json()) as Record<string, Wire>, headers: res.headers };
  }
  const cm = (name: string, data: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name },
    data,
  });

  beforeAll(async () => {
    server = await startApiServer({ historyWindow: 50, bookmarkIntervalMs: 50 });
  });
  afterAll(async () => {
    await server.close();
  });

  describe('bad input', () => {
    it('malformed JSON is a 400 Status', async () => {
      const r = await call('POST', '/api/v1/namespaces/default/configmaps', '{"kind": ');
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
      expect(r.body.message).toContain('json parse error');
    });

    it('a wrong kind for the URL is a 400 naming both kinds', async () => {
      const r = await call('POST', '/api/v1/namespaces/default/configmaps', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'x' },
      });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/ConfigMap.*Secret/);
    });

    it('an invalid name is a 422 Invalid whose cause names metadata.name', async () => {
      const r = await call('POST', '/api/v1/namespaces/default/configmaps', cm('Not_Valid'));
      expect(r.status).toBe(422);
      expect(r.body.reason).toBe('Invalid');
      expect(r.body.details.causes[0]).toMatchObject({ field: 'metadata.name', reason: 'FieldValueInvalid' });
      expect(r.body.message).toContain('Not_Valid');
    });

    it('unknown fields: 400 in Strict, a Warning header in Warn, silence in Ignore', async () => {
      const body = { ...cm('strict'), bogus: 1 };
      const strict = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', body);
      expect(strict.status).toBe(400);
      expect(strict.body.message).toBe('strict decoding error: unknown field "bogus"');
      const warn = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', body);
      expect(warn.status).toBe(201);
      expect(warn.headers.get('warning')).toContain('unknown field \\"bogus\\"');
      const ignore = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', {
        ...cm('ignored'),
        bogus: 1,
      });
      expect(ignore.status).toBe(201);
      expect(ignore.headers.get('warning')).toBeNull();
    });

    it('a pod without containers is 422 naming spec.containers; a service port out of range names the port', async () => {
      const pod = await call('POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: { containers: [] },
      });
      expect(pod.status).toBe(422);
      expect(pod.body.details.causes.map((c: { field: string }) => c.field)).toContain('spec.containers');
      const svc = await call('POST', '/api/v1/namespaces/default/services', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's' },
        spec: { ports: [{ port: 70000 }] },
      });
      expect(svc.status).toBe(422);
      expect(svc.body.details.causes[0].field).toBe('spec.ports[0].port');
    });

    it('unknown resources, missing objects and missing namespaces are 404', async () => {
      expect((await call('GET', '/api/v1/namespaces/default/widgets')).status).toBe(404);
      const missing = await call('GET', '/api/v1/namespaces/default/configmaps/nope');
      expect(missing.body).toMatchObject({
        reason: 'NotFound',
        code: 404,
        message: 'configmaps "nope" not found',
      });
      const nsMissing = await call('POST', '/api/v1/namespaces/nowhere/configmaps', cm('x'));
      expect(nsMissing.status).toBe(404);
      expect(nsMissing.body.message).toBe('namespaces "nowhere" not found');
    });

    it('protobuf bodies: 400 without the k8s magic, 415 for kinds it does not decode', async () => {
      const noMagic = await fetch(`${server.url}/api/v1/namespaces/default/configmaps`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' },
        body: Buffer.from('not protobuf'),
      });
      expect(noMagic.status).toBe(400);
      // Envelope: magic, then field 1 (TypeMeta{apiVersion "v1", kind "Pod"}) and field 2 (empty raw).
      const typeMeta = Buffer.from([0x0a, 2, ...Buffer.from('v1'), 0x12, 3, ...Buffer.from('Pod')]);
      const envelope = Buffer.concat([
        Buffer.from('k8s\0'),
        Buffer.from([0x0a, typeMeta.length]),
        typeMeta,
        Buffer.from([0x12, 0]),
      ]);
      const pod = await fetch(`${server.url}/api/v1/namespaces/default/pods`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' },
        body: envelope,
      });
      expect(pod.status).toBe(415);
      expect(((await pod.json()) as Wire).message).toContain('application/json');
    });

    it('unsupported selectors are 400', async () => {
      const r = await call('GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx');
      expect(r.status).toBe(400);
      expect(r.body.message).toContain('field label not supported: spec.bogus');
    });
  });

  describe('writes', () => {
    it('409 on duplicate names and on stale resourceVersion updates', async () => {
      const created = await call('POST', '/api/v1/namespaces/default/configmaps', cm('occ', { a: '1' }));
      expect((await call('POST', '/api/v1/namespaces/default/configmaps', cm('occ'))).body.reason).toBe(
        'AlreadyExists',
      );
      const first = await call('PUT', '/api/v1/namespaces/default/configmaps/occ', {
        ...created.body,
        data: { a: '2' },
      });
      expect(first.status).toBe(200);
      const stale = await call('PUT', '/api/v1/namespaces/default/configmaps/occ', {
        ...created.body,
        data: { a: '3' },
      });
      expect(stale.status).toBe(409);
      expect(stale.body.reason).toBe('Conflict');
      expect(Number(first.body.metadata.resourceVersion)).toBeGreaterThan(
        Number(created.body.metadata.resourceVersion),
      );
    });

    it('generateName, uid, creationTimestamp, and generation only bumping on spec change', async () => {
      const r = await call('POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { generateName: 'node-' },
        spec: {},
      });
      expect(r.body.metadata.name).toMatch(/^node-[a-z0-9]{5}$/);
      expect(r.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(r.body.metadata.generation).toBe(1);
      const path = `/api/v1/nodes/${r.body.metadata.name}`;
      const status = await call(
        'PATCH',
        `${path}/status`,
        {
          metadata: { labels: { 'kubernetes.io/os': 'linux' } },
          status: { phase: 'Running' },
          spec: { unschedulable: true },
        },
        'application/merge-patch+json',
      );
      expect(status.body.status.phase).toBe('Running');
      expect(status.body.spec.unschedulable).toBeUndefined();
      expect(status.body.metadata.generation).toBe(1);
      // nodeStatusStrategy keeps only the spec: a Node's labels change through /status too.
      expect(status.body.metadata.labels).toEqual({ 'kubernetes.io/os': 'linux' });
      const spec = await call(
        'PATCH',
        path,
        { spec: { unschedulable: true }, status: { phase: 'Ignored' } },
        'application/merge-patch+json',
      );
      expect(spec.body.spec.unschedulable).toBe(true);
      expect(spec.body.status.phase).toBe('Running');
      expect(spec.body.metadata.generation).toBe(2);
    });

    it('a patch carrying another metadata.uid is a 409 precondition failure', async () => {
      const created = await call('POST', '/api/v1/namespaces/default/configmaps', cm('uidpre'));
      const wrong = await call(
        'PATCH',
        '/api/v1/namespaces/default/configmaps/uidpre',
        { metadata: { uid: 'other' }, data: { a: '1' } },
        'application/strategic-merge-patch+json',
      );
      expect(wrong.status).toBe(409);
      expect(wrong.body.message).toContain('Precondition failed');
      const right = await call(
        'PATCH',
        '/api/v1/namespaces/default/configmaps/uidpre',
        { metadata: { uid: created.body.metadata.uid }, data: { a: '1' } },
        'application/strategic-merge-patch+json',
      );
      expect(right.status).toBe(200);
      expect(right.body.data).toEqual({ a: '1' });
    });

    it('JSON patch with test/replace/remove, and 422 when a test fails', async () => {
      await call('POST', '/api/v1/namespaces/default/configmaps', cm('jp', { a: '1', b: '2' }));
      const ok = await call(
        'PATCH',
        '/api/v1/namespaces/default/configmaps/jp',
        [
          { op: 'test', path: '/data/a', value: '1' },
          { op: 'replace', path: '/data/a', value: '9' },
          { op: 'remove', path: '/data/b' },
        ],
        'application/json-patch+json',
      );
      expect(ok.body.data).toEqual({ a: '9' });
      const failed = await call(
        'PATCH',
        '/api/v1/namespaces/default/configmaps/jp',
        [{ op: 'test', path: '/data/a', value: '1' }],
        'application/json-patch+json',
      );
      expect(failed.status).toBe(422);
    });

    it('pod binding sets nodeName once; eviction and token subresources answer 201', async () => {
      await call('POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'b1' },
        spec: { containers: [{ name: 'c', image: 'i:1' }] },
      });
      const bind = await call('POST', '/api/v1/namespaces/default/pods/b1/binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: 'b1' },
        target: { kind: 'Node', name: 'n9' },
      });
      expect(bind.status).toBe(201);
      expect((await call('GET', '/api/v1/namespaces/default/pods/b1')).body.spec.nodeName).toBe('n9');
      expect(
        (await call('POST', '/api/v1/namespaces/default/pods/b1/binding', { target: { name: 'n8' } })).status,
      ).toBe(409);
      const evict = await call('POST', '/api/v1/namespaces/default/pods/b1/eviction', {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: 'b1' },
        deleteOptions: { gracePeriodSeconds: 0 },
      });
      expect(evict.status).toBe(201);
      expect((await call('GET', '/api/v1/namespaces/default/pods/b1')).status).toBe(404);
      const token = await call('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: ['x'], expirationSeconds: 600 },
      });
      expect(token.status).toBe(201);
      expect(token.body.status.token).toMatch(/^fake\./);
    });
  });

  describe('list and watch', () => {
    it('paginates with limit/continue over a consistent snapshot', async () => {
      for (let i = 0; i < 5; i++)
        await call('POST', '/api/v1/namespaces/kube-public/configmaps', cm(`page-${i}`));
      const first = await call('GET', '/api/v1/namespaces/kube-public/configmaps?limit=2');
      expect(first.body.items.map((o: Wire) => o.metadata.name)).toEqual(['page-0', 'page-1']);
      expect(first.body.metadata.remainingItemCount).toBe(3);
      await call('POST', '/api/v1/namespaces/kube-public/configmaps', cm('page-9'));
      const names: string[] = [];
      let cont = first.body.metadata.continue;
      while (cont) {
        const page = await call('GET', `/api/v1/namespaces/kube-public/configmaps?limit=2&continue=${cont}`);
        names.push(...page.body.items.map((o: Wire) => o.metadata.name));
        expect(page.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
        cont = page.body.metadata.continue;
      }
      expect(names).toEqual(['page-2', 'page-3', 'page-4']);
    });

    it('an expired continue token is 410', async () => {
      const first = await call('GET', '/api/v1/namespaces/kube-public/configmaps?limit=1');
      server.faults.compactHistory();
      const next = await call(
        'GET',
        `/api/v1/namespaces/kube-public/configmaps?limit=1&continue=${first.body.metadata.continue}`,
      );
      expect(next.status).toBe(410);
      expect(next.body.reason).toBe('Expired');
    });

    async function readWatch(path: string, until: (events: Wire[]) => boolean): Promise<Wire[]> {
      const ac = new AbortController();
      const res = await fetch(server.url + path, { signal: ac.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const events: Wire[] = [];
      let buf = '';
      const decoder = new TextDecoder();
      try {
        while (!until(events)) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value);
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            events.push(JSON.parse(buf.slice(0, nl)));
            buf = buf.slice(nl + 1);
            nl = buf.indexOf('\n');
          }
        }
      } finally {
        ac.abort();
      }
      return events;
    }

    it('reports label-selector transitions as ADDED/DELETED and sends bookmarks', async () => {
      const rv = server.store.resourceVersion;
      const cms = server.resource('v1', 'configmaps');
      const w = readWatch(
        `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&labelSelector=sel%3Dyes&allowWatchBookmarks=true`,
        (evs) =>
          evs.some((e) => e.type === 'BOOKMARK') && evs.filter((e) => e.type !== 'BOOKMARK').length >= 3,
      );
      server.registry.create(cms, 'default', { metadata: { name: 'tr', labels: { sel: 'no' } } });
      const o = server.registry.get(cms, 'default', 'tr');
      const o2 = server.registry.update(cms, 'default', 'tr', {
        ...o,
        metadata: { ...o.metadata, labels: { sel: 'yes' } },
      });
      const o3 = server.registry.update(cms, 'default', 'tr', { ...o2, data: { x: '1' } });
      server.registry.update(cms, 'default', 'tr', {
        ...o3,
        metadata: { ...o3.metadata, labels: { sel: 'no' } },
      });
      const events = await w;
      expect(events.filter((e) => e.type !== 'BOOKMARK').map((e) => e.type)).toEqual([
        'ADDED',
        'MODIFIED',
        'DELETED',
      ]);
      const bm = events.find((e) => e.type === 'BOOKMARK');
      expect(Number(bm.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(rv);
    });

    it('answers a watch from a compacted resourceVersion with an ERROR event carrying 410', async () => {
      const cms = server.resource('v1', 'configmaps');
      const old = server.store.resourceVersion;
      for (let i = 0; i < 60; i++)
        server.registry.create(cms, 'default', { metadata: { name: `churn-${i}` } });
      const events = await readWatch(
        `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${old}`,
        (evs) => evs.length > 0,
      );
      expect(events[0].type).toBe('ERROR');
      expect(events[0].object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    });

    it('injected failures answer with the given code, then recover; latency delays requests', async () => {
      server.faults.failNext(2, 503, { retryAfterSeconds: 1 });
      const a = await call('GET', '/api/v1/namespaces');
      expect(a.status).toBe(503);
      expect(a.headers.get('retry-after')).toBe('1');
      expect((await call('GET', '/api/v1/namespaces')).status).toBe(503);
      expect((await call('GET', '/api/v1/namespaces')).status).toBe(200);
      server.faults.setLatency(30);
      const t0 = performance.now();
      await call('GET', '/api/v1/namespaces');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
      server.faults.reset();
    });
  });
});
