import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { HttpPodSource } from '../src/sources/http-pod-source';
import { staticPodDefaults } from '../src/sources/static-pod-source';

/** A loopback server whose reply the test sets, recording each request's headers. */
let server: Server;
let url: string;
let reply: { status: number; body: string } = { status: 200, body: '' };
const requests: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.headers);
    res.writeHead(reply.status, { 'Content-Type': 'application/yaml' });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/manifests`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function source(headers?: Record<string, string[]>, now = () => new Date('2026-11-23T12:00:00Z')) {
  const sets: Pod[][] = [];
  const errors: string[] = [];
  const http = new HttpPodSource({
    url,
    headers,
    nodeName: 'Node-A',
    checkFrequencyMs: 20_000,
    onPods: (pods) => sets.push(pods),
    onError: (error) => errors.push(error.message),
    now,
  });
  return { http, sets, errors };
}

const podYaml = [
  'apiVersion: v1',
  'kind: Pod',
  'metadata:',
  '  name: web',
  'spec:',
  '  containers:',
  '  - name: web',
  '    image: busybox',
].join('\n');

describe('HttpPodSource (staticPodURL)', () => {
  it('hands a single Pod as a static pod from "http", with the headers of staticPodURLHeader', async () => {
    reply = { status: 200, body: podYaml };
    const { http, sets, errors } = source({ Authorization: ['Bearer abc'], 'X-Extra': ['1', '2'] });
    expect(await http.check()).toBe(true);
    expect(errors).toEqual([]);
    const pod = sets[0]?.[0];
    expect(pod?.metadata.name).toBe('web-node-a');
    expect(pod?.metadata.namespace).toBe('default');
    expect(pod?.spec.nodeName).toBe('Node-A');
    expect(pod?.metadata.annotations?.['kubernetes.io/config.source']).toBe('http');
    expect(pod?.metadata.annotations?.['kubernetes.io/config.hash']).toBe(pod?.metadata.uid);
    expect(pod?.metadata.annotations?.['kubernetes.io/config.seen']).toBe('2026-11-23T12:00:00.000Z');
    // Only file pods get the NoExecute toleration, as upstream's applyDefaults.
    expect((pod?.spec as { tolerations?: unknown } | undefined)?.tolerations).toBeUndefined();
    const last = requests.at(-1);
    expect(last?.authorization).toBe('Bearer abc');
    expect(last?.['x-extra']).toBe('1, 2');
    // The uid is the manifest's and the URL's, not the file's and node's.
    const fromFile = staticPodDefaults(JSON.parse(JSON.stringify(pod)), 'Node-A', '/etc/x', 'now');
    expect(fromFile.metadata.uid).not.toBe(pod?.metadata.uid);
    expect((fromFile.spec as { tolerations?: unknown }).tolerations).toEqual([
      { operator: 'Exists', effect: 'NoExecute' },
    ]);
  });

  it('hands a PodList once, and again only when the body changes', async () => {
    const list = (names: string[]) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'PodList',
        items: names.map((name) => ({
          metadata: { name },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        })),
      });
    reply = { status: 200, body: list(['a', 'b']) };
    const { http, sets } = source();
    await http.check();
    await http.check();
    expect(sets.map((pods) => pods.map((p) => p.metadata.name))).toEqual([['a-node-a', 'b-node-a']]);
    reply = { status: 200, body: list(['b']) };
    await http.check();
    expect(sets.at(-1)?.map((p) => p.metadata.name)).toEqual(['b-node-a']);
    // The same manifest from the same URL keeps its uid.
    expect(sets[1]?.[0]?.metadata.uid).toBe(sets[0]?.[1]?.metadata.uid);
  });

  it('keeps the first-seen time of a pod still listed, and forgets a pod no longer listed', async () => {
    const list = (names: string[]) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'PodList',
        items: names.map((name) => ({
          metadata: { name },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        })),
      });
    let now = '2026-11-23T12:00:00Z';
    const { http, sets } = source(undefined, () => new Date(now));
    const seen = () =>
      Object.fromEntries(
        (sets.at(-1) ?? []).map((p) => [
          p.metadata.name,
          p.metadata.annotations?.['kubernetes.io/config.seen'],
        ]),
      );
    reply = { status: 200, body: list(['a', 'b']) };
    await http.check();
    now = '2026-11-23T12:01:00Z';
    reply = { status: 200, body: list(['b', 'c']) };
    await http.check();
    expect(seen()).toEqual({
      'b-node-a': '2026-11-23T12:00:00.000Z',
      'c-node-a': '2026-11-23T12:01:00.000Z',
    });
    // a left the list, so the kubelet dropped it: coming back it is a new pod, seen now.
    now = '2026-11-23T12:02:00Z';
    reply = { status: 200, body: list(['a', 'b']) };
    await http.check();
    expect(seen()).toEqual({
      'a-node-a': '2026-11-23T12:02:00.000Z',
      'b-node-a': '2026-11-23T12:00:00.000Z',
    });
  });

  it('reports a failed status without changing the pods, and an empty body as no pods', async () => {
    reply = { status: 200, body: podYaml };
    const { http, sets, errors } = source();
    await http.check();
    reply = { status: 503, body: 'down' };
    expect(await http.check()).toBe(false);
    expect(errors.at(-1)).toContain('503 Service Unavailable');
    expect(sets).toHaveLength(1);
    reply = { status: 200, body: '' };
    expect(await http.check()).toBe(false);
    expect(errors.at(-1)).toContain(`zero-length data received from ${url}`);
    expect(sets.at(-1)).toEqual([]);
  });

  it('refuses a body that is neither a Pod nor a PodList, naming the URL', async () => {
    reply = { status: 200, body: 'kind: Service\nmetadata:\n  name: x\n' };
    const { http, sets, errors } = source();
    expect(await http.check()).toBe(false);
    expect(errors[0]).toContain(url);
    expect(errors[0]).toContain("couldn't parse as single or multiple pods");
    expect(sets).toEqual([]);
  });
});
