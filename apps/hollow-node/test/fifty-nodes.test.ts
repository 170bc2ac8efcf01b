import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HollowCluster, inProcessUsage, runHollowNodes } from '../src/index';
import { nodeReady } from './node-ready';
import { until } from './until';

// Issue #53's proof: fifty hollow nodes in this process against the in-process API server with
// its control plane. A Deployment of 500 pods is spread over them by the server's scheduler; every
// pod becomes Running and Ready in the API, every node's Lease is renewed, and a Service's 500
// endpoints are rendered into each of the fifty hollow proxies' fake iptables rules.

const NODES = 50;
const REPLICAS = 500;
const names = Array.from({ length: NODES }, (_, i) => `hollow-node-${i}`);
let api: ApiServer;
let cluster: HollowCluster;

type Obj = {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};
const pods = () => api.registry.list(api.resource('v1', 'pods'), 'default') as Obj[];

const ready = (name: string) => nodeReady(api, name);

function renewTime(name: string): string | undefined {
  const leases = api.resource('coordination.k8s.io/v1', 'leases');
  const lease = api.registry.find(leases, 'kube-node-lease', name) as Obj | undefined;
  return lease?.spec?.renewTime as string | undefined;
}

/** A pod that is Running with its Ready condition True, as the API holds it. */
function runningAndReady(pod: Obj): boolean {
  const conditions = (pod.status?.conditions ?? []) as { type: string; status: string }[];
  return pod.status?.phase === 'Running' && conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

beforeAll(async () => {
  api = await startApiServer({ controlPlane: true, endpointSliceController: true });
  cluster = await runHollowNodes({
    kubeConfig: api.kubeConfig(),
    nodes: NODES,
    log: () => {},
    apiServerUsage: inProcessUsage(() => api.openWatches),
  });
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  await api?.close();
}, 120_000);

describe('fifty hollow nodes, a Deployment of 500 pods', () => {
  let firstRenewals: (string | undefined)[] = [];

  it('all fifty Nodes register and become Ready', async () => {
    expect(await until(() => names.every(ready), 180_000)).toBe(true);
    expect(await until(() => names.every((n) => renewTime(n) !== undefined), 60_000)).toBe(true);
    firstRenewals = names.map(renewTime);
  }, 240_000);

  it('the scheduler spreads the 500 pods, ten a node, and every one is Running and Ready', async () => {
    api.registry.create(api.resource('apps/v1', 'deployments'), 'default', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] }] },
        },
      },
    });
    const readyPods = () => pods().filter(runningAndReady).length;
    // The limits only guard against a hang: on a quiet machine this takes about a minute.
    const progress = () => {
      const all = pods();
      const scheduled = all.filter((p) => p.spec?.nodeName).length;
      const running = all.filter((p) => p.status?.phase === 'Running').length;
      return `${all.length} pods, ${scheduled} scheduled, ${running} Running, ${readyPods()} Ready`;
    };
    expect(await until(() => readyPods() === REPLICAS, 600_000), progress()).toBe(true);
    const perNode = new Map<string, number>();
    for (const pod of pods()) {
      const node = String(pod.spec?.nodeName);
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
    // No requests on the pods: the scheduler's tie-break (fewest pods) spreads them evenly.
    expect([...perNode.keys()].sort()).toEqual([...names].sort());
    expect(new Set(perNode.values())).toEqual(new Set([REPLICAS / NODES]));
    // The kubelets agree: each node's engine runs its ten, with pod IPs from its own /24.
    for (const node of cluster.nodes) expect(node.kubelet?.kubelet.getPods()).toHaveLength(REPLICAS / NODES);
    for (const pod of pods()) {
      const index = Number(String(pod.spec?.nodeName).slice('hollow-node-'.length));
      expect(pod.status?.podIP).toMatch(new RegExp(`^10\\.64\\.${index}\\.\\d+$`));
    }
  }, 660_000);

  it('every Lease has been renewed since the nodes became Ready', async () => {
    const renewed = () => names.every((n, i) => renewTime(n) !== firstRenewals[i]);
    // The default 40 s Lease is renewed every 10 s.
    expect(await until(renewed, 60_000)).toBe(true);
  }, 90_000);

  it("a Service's 500 endpoints are in every hollow proxy's fake rules", async () => {
    api.registry.create(api.resource('v1', 'services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    const expected = pods()
      .map((pod) => `--to-destination ${String(pod.status?.podIP)}:8080`)
      .sort();
    expect(new Set(expected).size).toBe(REPLICAS);
    const rendered = async (index: number) => {
      const nat = (await cluster.nodes[index]?.proxy?.iptables.saveText('nat')) ?? '';
      return (nat.match(/--to-destination \S+:8080/g) ?? []).sort();
    };
    for (let i = 0; i < NODES; i++) {
      const all = await until(async () => (await rendered(i)).length === REPLICAS, 120_000);
      expect(all, `node ${i}`).toBe(true);
      expect(await rendered(i)).toEqual(expected);
    }
    const report = await cluster.report();
    expect(report.nodes).toBe(NODES);
    expect(report.podsRunning).toBe(REPLICAS);
    expect(report.watches.open).toBeGreaterThanOrEqual(NODES * 5);
  }, 240_000);
});
