import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HollowCluster, inProcessUsage, runHollowNodes } from '../src/index';
import { nodeReady } from './node-ready';
import { until } from './until';

// A restart wave on ten hollow nodes against the in-process API server: 10% (one node) stops its
// kubelet and kube-proxy and starts them again. Its informers read their state again exactly as at
// the first start (one watch-list stream each, no more), the other nine send no LIST or WATCH, and
// the node's running pod and its proxy's rules outlive the restart, as on a real node.

let api: ApiServer;
let cluster: HollowCluster;
const names = Array.from({ length: 10 }, (_, i) => `hollow-node-${i}`);

type Obj = { metadata?: { uid?: string }; status?: Record<string, unknown> };

/** The LIST and WATCH counts in `byKind`: what a relist sends. */
function relists(byKind: Record<string, number> | Map<string, number> | undefined): Record<string, number> {
  const entries = byKind instanceof Map ? [...byKind] : Object.entries(byKind ?? {});
  return Object.fromEntries(
    entries
      .filter(([kind]) => kind.startsWith('LIST ') || kind.startsWith('WATCH '))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

const ready = (name: string) => nodeReady(api, name);

beforeAll(async () => {
  api = await startApiServer({ endpointSliceController: true });
  cluster = await runHollowNodes({
    kubeConfig: api.kubeConfig(),
    nodes: names.length,
    log: () => {},
    apiServerUsage: inProcessUsage(() => api.openWatches),
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
  await api?.close();
});

describe('a restart wave of 10% of ten hollow nodes', () => {
  it('relists on the restarted node exactly what its first start listed, and nothing on the others', async () => {
    expect(await until(() => names.every(ready), 60_000)).toBe(true);
    const openWatches = () => names.map((n) => cluster.counter.perNode.get(n)?.openWatches);
    expect(await until(() => openWatches().every((open) => open === 6), 30_000), String(openWatches())).toBe(
      true,
    );
    api.registry.create(api.resource('v1', 'pods'), 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'kept', namespace: 'default' },
      spec: { nodeName: 'hollow-node-0', containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
    const containerID = () => {
      const pod = api.registry.find(api.resource('v1', 'pods'), 'default', 'kept') as Obj | undefined;
      const statuses = (pod?.status?.containerStatuses ?? []) as { containerID?: string; ready?: boolean }[];
      return statuses[0]?.ready ? statuses[0].containerID : undefined;
    };
    expect(await until(() => containerID() !== undefined, 30_000)).toBe(true);
    const before = containerID();
    const rulesBefore = await cluster.nodes[0]?.proxy?.iptables.saveText('nat');
    const firstStart = relists(cluster.counter.perNode.get('hollow-node-0')?.byKind);
    // Pods, Services (the kubelet's and the proxy's), EndpointSlices and the node's own Node (the
    // proxy's, and the node status's in place of a GET every 10 s).
    expect(Object.values(firstStart).reduce((a, b) => a + b, 0)).toBe(6);

    const wave = await cluster.restartWave();

    expect(wave.nodes).toEqual(['hollow-node-0']);
    expect(wave.secondsToWatchesBack).not.toBeNull();
    // The wave ends once the new kube-proxy has synced: its rules are written by then.
    expect(wave.secondsToProxiesSynced).toBeGreaterThanOrEqual(0);
    expect(cluster.nodes[0]?.proxy?.proxier.history.some((sync) => sync.ok)).toBe(true);
    expect(relists(wave.restarted.byKind)).toEqual(firstStart);
    expect(relists(wave.others.byKind)).toEqual({});
    // The pod was not restarted: the new kubelet found its container running in the runtime.
    const kubelet = cluster.nodes[0]?.kubelet?.kubelet;
    expect(await until(() => (kubelet?.getPods().length ?? 0) === 1, 30_000)).toBe(true);
    expect(containerID()).toBe(before);
    expect(await cluster.nodes[0]?.proxy?.iptables.saveText('nat')).toBe(rulesBefore);

    const second = await cluster.restartWave();
    expect(second.nodes).toEqual(['hollow-node-1']);
    const report = await cluster.report();
    expect(report.restartWaves.map((w) => w.nodes)).toEqual([['hollow-node-0'], ['hollow-node-1']]);
    // The old agents' watches have closed, the new ones are open: six per node again.
    expect(await until(async () => (await cluster.report()).watches.open === names.length * 6, 30_000)).toBe(
      true,
    );
  });
});
