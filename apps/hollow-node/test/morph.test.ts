import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type HollowCluster, runHollowNodes } from '../src/index';
import { until } from './until';

// --morph: a node runs only the half asked for, and the API server sees only that half's requests.

let api: ApiServer | undefined;
let cluster: HollowCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  await api?.close();
  cluster = undefined;
  api = undefined;
});

describe('--morph', () => {
  it('proxy: renders Services into its fake iptables, registers no Node and runs no runtime', async () => {
    api = await startApiServer();
    cluster = await runHollowNodes({ kubeConfig: api.kubeConfig(), nodes: 1, morph: 'proxy', log: () => {} });
    api.registry.create(api.resource('v1', 'services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db', namespace: 'default' },
      spec: { clusterIP: '10.96.0.42', ports: [{ port: 5432, protocol: 'TCP' }] },
    });
    const node = cluster.nodes[0];
    const filter = async () => (await node?.proxy?.iptables.saveText('filter')) ?? '';
    // A Service without endpoints: kube-proxy's REJECT for its ClusterIP in the filter table.
    expect(
      await until(
        async () => /default\/db has no endpoints" -d 10\.96\.0\.42 .*-j REJECT/.test(await filter()),
        30_000,
      ),
    ).toBe(true);
    expect(node?.kubelet).toBeUndefined();
    expect(node?.runtime).toBeUndefined();
    expect(api.registry.list(api.resource('v1', 'nodes'), undefined)).toEqual([]);
    const byKind = (await cluster.report()).requests.byNode['hollow-node-0']?.byKind ?? {};
    expect(byKind['WATCH services']).toBe(1);
    expect(byKind['POST nodes']).toBeUndefined();
  });

  it('kubelet: registers its Node and runs no proxy', async () => {
    api = await startApiServer();
    cluster = await runHollowNodes({
      kubeConfig: api.kubeConfig(),
      nodes: 1,
      morph: 'kubelet',
      log: () => {},
    });
    const registered = () => api?.registry.list(api.resource('v1', 'nodes'), undefined).length === 1;
    expect(await until(registered, 30_000)).toBe(true);
    expect(cluster.nodes[0]?.proxy).toBeUndefined();
    const byKind = (await cluster.report()).requests.byNode['hollow-node-0']?.byKind ?? {};
    expect(byKind['LIST endpointslices']).toBeUndefined();
    // Informers read their initial state through a watch-list stream (a WATCH): none of those either.
    expect(byKind['WATCH endpointslices']).toBeUndefined();
  });
});
