import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { contentTypeIsProtobuf } from '../src/config/content-type';
import { ApiServiceLister, stripServiceForLinks, type WireService } from '../src/sources/api-service-lister';

// KubeletConfiguration contentType (upstream's default: protobuf) reaches the kubelet's one
// cluster-sized read, the Service list and watch behind service links. The protobuf lister must
// hold exactly what the JSON one holds, and must really have been answered in protobuf.

let api: ApiServer | undefined;
let stopRecording: (() => void) | undefined;
const listers: ApiServiceLister[] = [];

afterEach(async () => {
  stopRecording?.();
  for (const l of listers.splice(0)) await l.stop();
  await api?.close();
  api = undefined;
});

/**
 * The answers to every request sent from now on that asks for protobuf first, as "METHOD path
 * Content-Type", read off node:http's diagnostics channel as each answer's headers arrive.
 */
function recordProtobufAnswers(): string[] {
  const answers: string[] = [];
  const listener = (message: unknown) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    if (!String(request.getHeader('accept')).startsWith('application/vnd.kubernetes.protobuf')) return;
    answers.push(`${request.method} ${request.path.split('?')[0]} ${response.headers['content-type']}`);
  };
  subscribe('http.client.response.finish', listener);
  stopRecording = () => unsubscribe('http.client.response.finish', listener);
  return answers;
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

/** Services in namespace/name order. */
const sorted = (services: WireService[]) =>
  services.sort((a, b) =>
    `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
      `${b.metadata?.namespace}/${b.metadata?.name}`,
    ),
  );

/** What a lister holds, in a fixed order. */
const held = (l: ApiServiceLister) => sorted([...(l.list() as WireService[])]);

/** What the server holds, stripped as the listers strip it, in the same order. */
function expected(server: ApiServer): WireService[] {
  const services = server.resource('v1', 'services');
  return sorted(
    (server.registry.list(services, undefined) as WireService[]).map((s) => stripServiceForLinks(s)),
  );
}

describe('the Service lister over protobuf (KubeletConfiguration contentType)', () => {
  it('holds what the JSON lister holds, through changes, read from protobuf answers', async () => {
    api = await startApiServer();
    populate(api);
    const answers = recordProtobufAnswers();
    const json = new ApiServiceLister(api.kubeConfig());
    const protobuf = new ApiServiceLister(api.kubeConfig(), { protobuf: true });
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
    expect(answers.length).toBeGreaterThan(0);
    expect(
      answers.every((a) => a === 'GET /api/v1/services application/vnd.kubernetes.protobuf;stream=watch'),
    ).toBe(true);
  });

  it('asks for protobuf exactly when contentType is the protobuf media type', () => {
    expect(contentTypeIsProtobuf('application/vnd.kubernetes.protobuf')).toBe(true);
    expect(contentTypeIsProtobuf(' Application/Vnd.Kubernetes.Protobuf ;x=y')).toBe(true);
    expect(contentTypeIsProtobuf('application/json')).toBe(false);
    expect(contentTypeIsProtobuf('application/vnd.kubernetes.protobuf+json')).toBe(false);
  });
});
