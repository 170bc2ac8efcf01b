import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { contentTypeIsProtobuf } from '../src/config/content-type';
import { ApiServiceLister, stripServiceForLinks, type WireService } from '../src/sources/api-service-lister';

// KubeletConfiguration contentType (upstream's default: protobuf) reaches the kubelet's one
// cluster-sized read, the Service list and watch behind service links. The protobuf lister must
// hold exactly what the JSON one holds, and must really have been answered in protobuf.

let api: ApiServer | undefined;
let proxy: Server | undefined;
const listers: ApiServiceLister[] = [];

afterEach(async () => {
  for (const l of listers.splice(0)) await l.stop();
  proxy?.closeAllConnections();
  await new Promise((done) => (proxy ? proxy.close(done) : done(undefined)));
  proxy = undefined;
  await api?.close();
  api = undefined;
});

/** A pass-through HTTP proxy in front of `target` that records each answer's Content-Type by path. */
async function recordingProxy(target: string): Promise<{ url: string; answers: string[] }> {
  const answers: string[] = [];
  proxy = createServer((req, res) => {
    const upstream = request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (up) => {
        answers.push(
          `${req.method} ${new URL(req.url ?? '/', target).pathname} ${up.headers['content-type']}`,
        );
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((listening) => proxy!.listen(0, '127.0.0.1', listening));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, answers };
}

/** The server's kubeconfig, pointed at `server`. */
function kubeConfigAt(base: KubeConfig, server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: base.clusters.map((c) => ({ ...c, server })),
    users: base.users,
    contexts: base.contexts,
    currentContext: base.currentContext,
  });
  return kc;
}

function populate(server: ApiServer): void {
  server.registry.create(server.resource('v1', 'namespaces'), '', { metadata: { name: 'other' } });
  const services = server.resource('v1', 'services');
  const create = (namespace: string, s: Wire<V1Service>) => server.registry.create(services, namespace, s);
  create('default', {
    metadata: {
      name: 'web',
      labels: { app: 'web' },
      annotations: { 'example.com/big': 'x'.repeat(2_000) },
    },
    spec: {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 as never },
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' as never },
      ],
      sessionAffinity: 'ClientIP',
    },
  });
  create('default', { metadata: { name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 9000 }] } });
  create('other', { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
  create('other', {
    metadata: { name: 'lb', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'u' }] },
    spec: { type: 'LoadBalancer', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
  });
}

/** What a lister holds, in a fixed order. */
const held = (l: ApiServiceLister) =>
  [...(l.list() as WireService[])].sort((a, b) =>
    `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
      `${b.metadata?.namespace}/${b.metadata?.name}`,
    ),
  );

/** What the server holds, stripped as the listers strip it, in the same order. */
function expected(server: ApiServer): WireService[] {
  const services = server.resource('v1', 'services');
  return (server.registry.list(services, undefined) as WireService[])
    .map((s) => stripServiceForLinks(s))
    .sort((a, b) =>
      `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
        `${b.metadata?.namespace}/${b.metadata?.name}`,
      ),
    );
}

describe('the Service lister over protobuf (KubeletConfiguration contentType)', () => {
  it('holds what the JSON lister holds, through changes, read from protobuf answers', async () => {
    api = await startApiServer();
    populate(api);
    const recorder = await recordingProxy(api.url);
    const json = new ApiServiceLister(api.kubeConfig());
    const protobuf = new ApiServiceLister(kubeConfigAt(api.kubeConfig(), recorder.url), { protobuf: true });
    for (const l of [json, protobuf]) {
      listers.push(l);
      l.start();
      await l.informer.waitForSync();
    }
    expect(held(protobuf)).toEqual(expected(api));
    expect(held(json)).toEqual(held(protobuf));

    const services = api.resource('v1', 'services');
    const web = api.registry.get(services, 'default', 'web') as Wire<V1Service>;
    api.registry.update(services, 'default', 'web', {
      ...web,
      spec: { ...web.spec, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
    });
    api.registry.delete(services, 'other', 'lb');
    api.registry.create(services, 'other', { metadata: { name: 'new' }, spec: { ports: [{ port: 7 }] } });
    const want = expected(api);
    await vi.waitFor(() => {
      expect(held(json)).toEqual(want);
      expect(held(protobuf)).toEqual(want);
    }, 20_000);

    // The protobuf lister's watch-list stream (its initial state and the changes) was protobuf.
    expect(recorder.answers.length).toBeGreaterThan(0);
    expect(
      recorder.answers.every(
        (a) => a === 'GET /api/v1/services application/vnd.kubernetes.protobuf;stream=watch',
      ),
    ).toBe(true);
  });

  it('asks for protobuf exactly when contentType is the protobuf media type', () => {
    expect(contentTypeIsProtobuf('application/vnd.kubernetes.protobuf')).toBe(true);
    expect(contentTypeIsProtobuf(' Application/Vnd.Kubernetes.Protobuf ;x=y')).toBe(true);
    expect(contentTypeIsProtobuf('application/json')).toBe(false);
    expect(contentTypeIsProtobuf('application/vnd.kubernetes.protobuf+json')).toBe(false);
  });
});
