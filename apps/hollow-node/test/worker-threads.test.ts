import { join } from 'node:path';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HollowNodesControl, inProcessUsage, RequestCounter, runHollowNodes } from '../src/index';
import { nodeReady } from './node-ready';
import { until } from './until';

// Six hollow nodes over two worker threads (the sources' entry, loaded through tsx) against the
// in-process API server: every node registers and renews its Lease from its worker, and the
// parent's report, summed from what the workers post up, counts every node's requests as the
// API server saw them arrive.

let api: ApiServer;
let cluster: HollowNodesControl;
const names = Array.from({ length: 6 }, (_, i) => `hollow-node-${i}`);
let arrived: RequestCounter;
const logs: string[] = [];
const leases = () => api.resource('coordination.k8s.io/v1', 'leases');

function renewTime(name: string): string | undefined {
  try {
    const lease = api.registry.get(leases(), 'kube-node-lease', name) as { spec?: { renewTime?: string } };
    return lease.spec?.renewTime;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  api = await startApiServer();
  arrived = new RequestCounter(names, api);
  arrived.start();
  cluster = await runHollowNodes({
    kubeConfig: api.kubeConfig(),
    nodes: names.length,
    workers: 2,
    workerEntry: join(import.meta.dirname, '..', 'src', 'cli.ts'),
    // A 1 s lease renews every 250 ms: renewals within the test.
    kubeletConfiguration: { nodeLeaseDurationSeconds: 1 },
    log: (line) => logs.push(line),
    apiServerUsage: inProcessUsage(() => api.openWatches),
  });
}, 120_000);

afterAll(async () => {
  arrived?.stop();
  await cluster?.stop();
  await api?.close();
});

describe('hollow nodes over two worker threads', () => {
  it('start all six: each worker its share, every Node Ready', async () => {
    expect(cluster.nodeCount).toBe(6);
    expect(await until(() => names.every((n) => nodeReady(api, n)), 60_000), logs.join('')).toBe(true);
  });

  it("renew every node's Lease", async () => {
    expect(await until(() => names.every((n) => renewTime(n) !== undefined), 30_000)).toBe(true);
    const first = names.map(renewTime);
    expect(await until(() => names.every((n, i) => renewTime(n) !== first[i]), 30_000)).toBe(true);
  });

  it("run a pod on the second worker's node and count it Running in the report", async () => {
    api.registry.create(api.resource('v1', 'pods'), 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: { nodeName: 'hollow-node-5', containers: [{ name: 'web', image: 'nginx:1.27' }] },
    });
    expect(await until(async () => (await cluster.report()).podsRunning === 1, 60_000)).toBe(true);
  });

  it('report every node of both workers, as the API server counted them', async () => {
    const report = await cluster.report();
    expect(report.nodes).toBe(6);
    expect(Object.keys(report.requests.byNode).sort()).toEqual([...names].sort());
    for (const name of names) {
      const byKind = report.requests.byNode[name]?.byKind ?? {};
      expect(byKind['POST nodes']).toBeGreaterThanOrEqual(1);
      expect(byKind['PUT leases']).toBeGreaterThanOrEqual(1);
      expect(arrived.perNode.get(name)?.byKind.get('POST nodes')).toBe(byKind['POST nodes']);
      expect(report.requests.byNode[name]?.bytesSent).toBeGreaterThan(0);
    }
    expect(report.requests.byNode['hollow-node-5']?.byKind['PATCH pods/status']).toBeGreaterThanOrEqual(1);
    expect(report.requests.byNode['hollow-node-0']?.byKind['PATCH pods/status']).toBeUndefined();
    // Five watches a node, in whichever thread it runs.
    expect(report.watches.open).toBeGreaterThanOrEqual(6 * 5);
    expect(report.requests.total).toBe(
      names.reduce((sum, n) => sum + (report.requests.byNode[n]?.total ?? 0), 0),
    );
    expect(report.process.cpuSeconds).toBeGreaterThan(0);
  });

  it('run a restart wave in both workers at once, reported as one', async () => {
    const wave = await cluster.restartWave();
    expect(wave.wave).toBe(1);
    // 10% of each worker's three nodes: one each, the first of each share.
    expect(wave.nodes).toEqual(['hollow-node-0', 'hollow-node-3']);
    expect(wave.secondsToWatchesBack).not.toBeNull();
    expect(wave.restarted.byKind['WATCH pods']).toBeGreaterThanOrEqual(2);
    expect((await cluster.report()).restartWaves).toEqual([wave]);
  });
});
