import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCriLog } from '../src/logs/container-log-text';
import { createKubeletServer, listen, type RunningServer } from '../src/server/kubelet-server';
import { subresourcesForPath } from '../src/server/server-auth';
import { selfSignedCertificate } from '../src/server/tls-material';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { openServerOptions } from './helpers/open-kubelet-server';

let h: EngineHarness;
let open: RunningServer;
let denied: RunningServer;
const pod = testPod(
  {
    containers: [
      {
        name: 'app',
        image: busybox,
        command: ['sh', '-c', 'echo one; echo two; echo three >&2; sleep 3600'],
      },
    ],
  },
  'logger',
);

beforeAll(async () => {
  h = await startEngine();
  h.kubelet.addPod(pod);
  await h.kubelet.settle();
  const podLogsDir = `${h.dir}/logs`;
  open = await listen(
    createKubeletServer({
      ...openServerOptions(h),
      configz: () => ({ syncFrequency: '1m0s', maxPods: 110 }),
    }),
    0,
    '127.0.0.1',
  );
  denied = await listen(
    createKubeletServer({
      kubelet: h.kubelet,
      nodeName: 'node-a',
      podLogsDir,
      authenticate: async (request) =>
        request.headers['x-user'] ? { name: String(request.headers['x-user']), groups: [] } : undefined,
      // bob may read metrics; carol holds only the fine-grained nodes/pods and nodes/healthz;
      // mallory's review fails.
      authorize: async (user, attributes) => {
        if (user.name === 'mallory') throw new Error('SubjectAccessReview: connection refused');
        if (user.name === 'carol') return ['pods', 'healthz'].includes(attributes.subresource);
        return user.name === 'admin' || attributes.subresource === 'metrics';
      },
    }),
    0,
    '127.0.0.1',
  );
});

afterAll(async () => {
  await open?.close();
  await denied?.close();
  await h?.close();
});

const get = (server: RunningServer, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${server.port}${path}`, { headers });

describe('kubelet server', () => {
  it('serves /healthz, /pods and /metrics with upstream metric names', async () => {
    expect(await (await get(open, '/healthz')).text()).toBe('ok');
    const pods = (await (await get(open, '/pods')).json()) as {
      kind: string;
      items: { metadata: { name: string }; status: { phase: string } }[];
    };
    expect(pods.kind).toBe('PodList');
    expect(pods.items.map((p) => [p.metadata.name, p.status.phase])).toEqual([['logger', 'Running']]);
    const metrics = await (await get(open, '/metrics')).text();
    expect(metrics).toMatch(/^kubelet_running_pods 1$/m);
    expect(metrics).toContain('kubelet_pleg_relist_duration_seconds_count');
    expect(metrics).toMatch(/^kubelet_started_containers_total\{container_type="container"\} 1$/m);
    expect(metrics).toContain('kubelet_pod_start_sli_duration_seconds_bucket');
  });

  it('serves container logs with tailLines and timestamps', async () => {
    expect(await (await get(open, '/containerLogs/default/logger/app')).text()).toBe('one\ntwo\nthree\n');
    expect(await (await get(open, '/containerLogs/default/logger/app?tailLines=1')).text()).toBe('three\n');
    const stamped = await (await get(open, '/containerLogs/default/logger/app?timestamps=true')).text();
    expect(stamped.split('\n')[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ one$/);
    expect((await get(open, '/containerLogs/default/logger/nope')).status).toBe(404);
    expect((await get(open, '/containerLogs/default/logger/app?previous=true')).status).toBe(400);
    expect(await (await get(open, '/containerLogs/default/logger/app?limitBytes=6')).text()).toBe('one\ntw');
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await (await get(open, `/containerLogs/default/logger/app?sinceTime=${future}`)).text()).toBe('');
  });

  it('follows a log until the client goes away', async () => {
    const controller = new AbortController();
    const response = await fetch(
      `http://127.0.0.1:${open.port}/containerLogs/default/logger/app?follow=true`,
      {
        signal: controller.signal,
      },
    );
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe('one\ntwo\nthree\n');
    controller.abort();
  });

  it('rejects unauthenticated (401) and unauthorized (403) requests per node subresource', async () => {
    expect((await get(denied, '/pods')).status).toBe(401);
    const forbidden = await get(denied, '/pods', { 'x-user': 'bob' });
    expect(forbidden.status).toBe(403);
    // Upstream's words: every subresource tried, as Go prints a []string.
    expect(await forbidden.text()).toBe(
      'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[pods proxy])\n',
    );
    expect((await get(denied, '/metrics', { 'x-user': 'bob' })).status).toBe(200);
    expect((await get(denied, '/pods', { 'x-user': 'admin' })).status).toBe(200);
    const failed = await get(denied, '/pods', { 'x-user': 'mallory' });
    expect({ status: failed.status, body: await failed.text() }).toEqual({
      status: 500,
      body: 'Authorization error (user=mallory, verb=get, resource=nodes, subresource=pods)',
    });
  });

  it('serves /runningpods/ as upstream: the runtime running pods as ToAPIPod makes them', async () => {
    const running = await get(open, '/runningpods/');
    expect(running.headers.get('content-type')).toBe('application/json');
    const text = await running.text();
    expect(text.endsWith('\n')).toBe(true);
    const list = JSON.parse(text);
    expect(list).toMatchObject({ kind: 'PodList', apiVersion: 'v1', metadata: {} });
    expect(list.items).toEqual([
      {
        metadata: { name: 'logger', namespace: 'default', uid: pod.metadata.uid, creationTimestamp: null },
        spec: { containers: [{ name: 'app', image: expect.any(String), resources: {} }] },
        status: {},
      },
    ]);
    // Fine-grained: nodes/pods, then nodes/proxy.
    expect((await get(denied, '/runningpods/', { 'x-user': 'carol' })).status).toBe(200);
  });

  it('serves /configz as upstream ({"kubeletconfig": …}), and nothing there without a configuration', async () => {
    const configz = await get(open, '/configz');
    expect(configz.headers.get('content-type')).toBe('application/json');
    expect(await configz.json()).toEqual({ kubeletconfig: { syncFrequency: '1m0s', maxPods: 110 } });
    expect((await get(denied, '/configz', { 'x-user': 'admin' })).status).toBe(404);
    // Fine-grained: nodes/configz, then nodes/proxy.
    expect(await (await get(denied, '/configz', { 'x-user': 'carol' })).text()).toBe(
      'Forbidden (user=carol, verb=get, resource=nodes, subresource(s)=[configz proxy])\n',
    );
  });

  it('admits a client holding only fine-grained subresources where upstream v1.36 does (KEP-2862)', async () => {
    expect((await get(denied, '/pods', { 'x-user': 'carol' })).status).toBe(200);
    expect((await get(denied, '/healthz', { 'x-user': 'carol' })).status).toBe(200);
    const logs = await get(denied, '/containerLogs/default/logger/app', { 'x-user': 'carol' });
    expect({ status: logs.status, body: await logs.text() }).toEqual({
      status: 403,
      body: 'Forbidden (user=carol, verb=get, resource=nodes, subresource(s)=[proxy])\n',
    });
    // upstream's nodeAuthorizerAttributesGetter, path by path.
    expect(subresourcesForPath('/pods')).toEqual(['pods', 'proxy']);
    expect(subresourcesForPath('/pods/')).toEqual(['pods', 'proxy']);
    expect(subresourcesForPath('/podsx')).toEqual(['proxy']);
    expect(subresourcesForPath('/runningpods/')).toEqual(['pods', 'proxy']);
    expect(subresourcesForPath('/runningpods')).toEqual(['pods', 'proxy']);
    expect(subresourcesForPath('/healthz/ping')).toEqual(['healthz', 'proxy']);
    expect(subresourcesForPath('/configz')).toEqual(['configz', 'proxy']);
    expect(subresourcesForPath('/statusz')).toEqual(['statusz', 'proxy']);
    expect(subresourcesForPath('/stats/summary')).toEqual(['stats']);
    expect(subresourcesForPath('/stats')).toEqual(['stats']);
    expect(subresourcesForPath('/metrics/cadvisor')).toEqual(['metrics']);
    expect(subresourcesForPath('/logs/syslog')).toEqual(['log']);
    expect(subresourcesForPath('/checkpoint/a/b/c')).toEqual(['checkpoint']);
    expect(subresourcesForPath('/containerLogs/a/b/c')).toEqual(['proxy']);
    expect(subresourcesForPath('/exec/a/b/c')).toEqual(['proxy']);
  });

  it('serves TLS with a self-signed certificate', async () => {
    const tls = await selfSignedCertificate('node-a', ['127.0.0.1']);
    const server = await listen(
      createKubeletServer({
        ...openServerOptions(h),
        tls,
      }),
      0,
      '127.0.0.1',
    );
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port: server.port, path: '/healthz', ca: tls.cert, servername: 'node-a' },
          (res) => {
            let text = '';
            res.on('data', (chunk) => {
              text += chunk;
            });
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(body).toBe('ok');
    } finally {
      await server.close();
    }
  });
});

describe('renderCriLog', () => {
  it('joins partial lines and filters by time', () => {
    const text = [
      '2025-01-01T00:00:00.000000001Z stdout P hel',
      '2025-01-01T00:00:00.000000002Z stdout F lo',
      '2025-01-01T00:00:05.000000000Z stderr F later',
      'garbage',
    ].join('\n');
    expect(renderCriLog(text)).toBe('hello\nlater\n');
    expect(renderCriLog(text, { sinceMs: Date.parse('2025-01-01T00:00:01Z') })).toBe('later\n');
    expect(renderCriLog('')).toBe('');
    // Output that ended without a newline stays without one (echo -n), as upstream ReadLogs writes it.
    expect(renderCriLog('2025-01-01T00:00:00.000000001Z stdout P DONE\n')).toBe('DONE');
    // tailLines counts the file's lines.
    expect(renderCriLog(text, { tailLines: 3 })).toBe('lo\nlater\n');
    expect(renderCriLog(text, { tailLines: 10 })).toBe('hello\nlater\n');
  });
});
