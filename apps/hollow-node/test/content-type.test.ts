import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type HollowCluster, runHollowNodes } from '../src/index';
import { until } from './until';

// --kube-api-content-type (kubemark's, default protobuf) reaches both halves: each node's Service
// and EndpointSlice reads ask for what it names, read off the requests as they leave.

let api: ApiServer | undefined;
let cluster: HollowCluster | undefined;
let stopRecording: (() => void) | undefined;

afterEach(async () => {
  stopRecording?.();
  await cluster?.stop();
  await api?.close();
  cluster = undefined;
  api = undefined;
});

/** The Accept header of every services or endpointslices request sent from now on, by resource. */
function recordAccepts(): Map<string, Set<string>> {
  const accepts = new Map<string, Set<string>>();
  const listener = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    const resource = /\/(services|endpointslices)(\?|$)/.exec(request.path)?.[1];
    if (!resource) return;
    const seen = accepts.get(resource) ?? new Set<string>();
    seen.add(String(request.getHeader('accept')));
    accepts.set(resource, seen);
  };
  subscribe('http.client.request.start', listener);
  stopRecording = () => unsubscribe('http.client.request.start', listener);
  return accepts;
}

async function acceptsOfOneNode(kubeletConfiguration?: Record<string, unknown>) {
  api = await startApiServer();
  const accepts = recordAccepts();
  cluster = await runHollowNodes({
    kubeConfig: api.kubeConfig(),
    nodes: 1,
    morph: 'both',
    log: () => {},
    ...(kubeletConfiguration ? { kubeletConfiguration } : {}),
  });
  // The kubelet's Service watch and the proxy's Service and EndpointSlice watches.
  expect(await until(() => accepts.has('services') && accepts.has('endpointslices'), 30_000)).toBe(true);
  const proxy = cluster.nodes[0]?.proxy;
  expect(await until(() => proxy?.watch.services.hasSynced() === true, 30_000)).toBe(true);
  return Object.fromEntries([...accepts].map(([resource, seen]) => [resource, [...seen].sort()]));
}

describe('--kube-api-content-type', () => {
  it("default: both halves ask for protobuf, JSON accepted (upstream's default)", async () => {
    expect(await acceptsOfOneNode()).toEqual({
      services: ['application/vnd.kubernetes.protobuf, application/json'],
      endpointslices: ['application/vnd.kubernetes.protobuf, application/json'],
    });
  });

  it('application/json: both halves ask for JSON', async () => {
    expect(await acceptsOfOneNode({ contentType: 'application/json' })).toEqual({
      services: ['application/json'],
      endpointslices: ['application/json'],
    });
  });
});
