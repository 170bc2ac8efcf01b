import { FakeIptables } from '@nodeagent/netfilter/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  endpointChainName,
  IptablesProxier,
  iptablesExecutor,
  serviceChainNames,
} from '../src/iptables/index';
import { service, slice } from './fixtures';
import { type ProxyCluster, startProxyCluster, stopProxyCluster, until } from './real/cluster-fixtures';

// The proxier behind real informers against the in-process API server while the server
// misbehaves: dropped watches, 410 Gone after compaction, 500s. Rules must converge anyway.

let cluster: ProxyCluster;
let ipt: FakeIptables;
let proxier: IptablesProxier;

const sep = (ip: string) => endpointChainName('default/web:http', 'TCP', `${ip}:8080`);
const svcChain = serviceChainNames('default/web:http', 'TCP').cluster;

// Converging through real informers can take a relist or two after a fault.
const converged = (cond: () => boolean) => until(cond, { timeoutMs: 20_000, intervalMs: 50 });

beforeAll(async () => {
  ipt = new FakeIptables();
  proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName: 'n1',
    executor: iptablesExecutor(ipt),
    minSyncPeriodMs: 20,
    syncPeriodMs: 1000,
  });
  cluster = await startProxyCluster('n1', [proxier], { watchTimeoutSeconds: 5 });
});

afterAll(async () => {
  await stopProxyCluster({ cluster, proxiers: [proxier] });
});

describe('API server faults', { timeout: 60_000 }, () => {
  it('programs a Service once both informers synced', async () => {
    cluster.putService(service('web'));
    cluster.putSlice(slice('web', [{ ip: '10.244.0.1' }]));
    expect(await converged(() => ipt.userChains('nat').includes(sep('10.244.0.1')))).toBe(true);
    expect(ipt.userChains('nat').includes(svcChain)).toBe(true);
  });

  it('recovers from dropped watches', async () => {
    cluster.api.faults.dropWatches();
    cluster.putSlice(slice('web', [{ ip: '10.244.0.2' }]));
    expect(
      await converged(
        () =>
          ipt.userChains('nat').includes(sep('10.244.0.2')) &&
          !ipt.userChains('nat').includes(sep('10.244.0.1')),
      ),
    ).toBe(true);
  });

  it('recovers from 410 Gone (compacted history) by relisting', async () => {
    cluster.api.faults.compactHistory();
    cluster.api.faults.dropWatches();
    cluster.putSlice(slice('web', [{ ip: '10.244.0.3' }]));
    expect(
      await converged(
        () =>
          ipt.userChains('nat').includes(sep('10.244.0.3')) &&
          !ipt.userChains('nat').includes(sep('10.244.0.2')),
      ),
    ).toBe(true);
  });

  it('recovers from server errors and applies deletions made meanwhile', async () => {
    cluster.api.faults.failNext(3, 500);
    cluster.api.faults.dropWatches();
    cluster.api.registry.delete(cluster.api.resource('v1', 'services'), 'default', 'web');
    expect(await converged(() => !ipt.userChains('nat').includes(svcChain))).toBe(true);
    expect(ipt.userChains('nat').includes(sep('10.244.0.3'))).toBe(false);
    expect(proxier.history.every((h) => h.ok)).toBe(true);
  });
});
