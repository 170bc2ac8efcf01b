import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterWatch,
  endpointChainName,
  IptablesProxier,
  multiFamilyHandler,
  serviceChainNames,
  watchCluster,
} from '../src/index';
import { FakeIptables } from './fake-iptables';
import { service, slice } from './fixtures';

// The proxier behind real informers against the in-process API server while the server
// misbehaves: dropped watches, 410 Gone after compaction, 500s. Rules must converge anyway.

let api: ApiServer;
let ipt: FakeIptables;
let proxier: IptablesProxier;
let watch: ClusterWatch;

const sep = (ip: string) => endpointChainName('default/web:http', 'TCP', `${ip}:8080`);
const svcChain = serviceChainNames('default/web:http', 'TCP').cluster;

function put(apiVersion: string, plural: string, obj: V1Service | V1EndpointSlice): void {
  const rt = api.resource(apiVersion, plural);
  const name = obj.metadata!.name!;
  const existing = api.registry.find(rt, 'default', name);
  if (existing) {
    api.registry.update(rt, 'default', name, {
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: existing.metadata.resourceVersion },
    });
  } else api.registry.create(rt, 'default', obj);
}

async function until(cond: () => boolean, timeoutMs = 20_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

beforeAll(async () => {
  api = await startApiServer();
  ipt = new FakeIptables();
  proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName: 'n1',
    executor: ipt,
    minSyncPeriodMs: 20,
    syncPeriodMs: 1000,
  });
  proxier.start();
  watch = watchCluster({
    kubeConfig: api.kubeConfig(),
    nodeName: 'n1',
    handler: multiFamilyHandler([proxier]),
    watchTimeoutSeconds: 5,
  });
});

afterAll(async () => {
  await watch?.stop();
  await proxier?.stop();
  await api?.close();
});

describe('API server faults', { timeout: 60_000 }, () => {
  it('programs a Service once both informers synced', async () => {
    put('v1', 'services', service('web'));
    put('discovery.k8s.io/v1', 'endpointslices', slice('web', [{ ip: '10.244.0.1' }]));
    expect(await until(() => ipt.chains.nat.has(sep('10.244.0.1')))).toBe(true);
    expect(ipt.chains.nat.has(svcChain)).toBe(true);
  });

  it('recovers from dropped watches', async () => {
    api.faults.dropWatches();
    put('discovery.k8s.io/v1', 'endpointslices', slice('web', [{ ip: '10.244.0.2' }]));
    expect(
      await until(() => ipt.chains.nat.has(sep('10.244.0.2')) && !ipt.chains.nat.has(sep('10.244.0.1'))),
    ).toBe(true);
  });

  it('recovers from 410 Gone (compacted history) by relisting', async () => {
    api.faults.compactHistory();
    api.faults.dropWatches();
    put('discovery.k8s.io/v1', 'endpointslices', slice('web', [{ ip: '10.244.0.3' }]));
    expect(
      await until(() => ipt.chains.nat.has(sep('10.244.0.3')) && !ipt.chains.nat.has(sep('10.244.0.2'))),
    ).toBe(true);
  });

  it('recovers from server errors and applies deletions made meanwhile', async () => {
    api.faults.failNext(3, 500);
    api.faults.dropWatches();
    api.registry.delete(api.resource('v1', 'services'), 'default', 'web');
    expect(await until(() => !ipt.chains.nat.has(svcChain))).toBe(true);
    expect(ipt.chains.nat.has(sep('10.244.0.3'))).toBe(false);
    expect(proxier.history.every((h) => h.ok)).toBe(true);
  });
});
