import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HollowCluster, inProcessUsage, RequestCounter, runHollowNodes } from '../src/index';
import { until } from './until';

// Three hollow nodes in this process against the in-process API server: each registers and
// renews its Lease, node 2 runs a pod bound to it and renders a Service's endpoint into its fake
// iptables, and the report attributes every request to the node that sent it.

let api: ApiServer;
let cluster: HollowCluster;
const names = ['hollow-node-0', 'hollow-node-1', 'hollow-node-2'];
/** The same requests counted where they arrive (the API server runs in this process). */
let arrived: RequestCounter;
const logs: string[] = [];

type Obj = { metadata?: { name?: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> };
const nodes = () => api.resource('v1', 'nodes');
const leases = () => api.resource('coordination.k8s.io/v1', 'leases');
const pods = () => api.resource('v1', 'pods');

function ready(name: string): boolean {
  try {
    const node = api.registry.get(nodes(), undefined, name) as Obj;
    const conditions = (node.status?.conditions ?? []) as { type: string; status: string }[];
    return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  } catch {
    return false;
  }
}

function renewTime(name: string): string | undefined {
  try {
    return (api.registry.get(leases(), 'kube-node-lease', name) as Obj).spec?.renewTime as string | undefined;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  // Over HTTPS, as a cluster serves it: every node's requests are streams on its HTTP/2 connection.
  api = await startApiServer({ endpointSliceController: true, tls: true });
  arrived = new RequestCounter(names, api);
  arrived.start();
  cluster = await runHollowNodes({
    kubeConfig: api.kubeConfig(),
    nodes: 3,
    // A 1 s lease renews every 250 ms: renewals within the test, not the default 10 s apart.
    kubeletConfiguration: { nodeLeaseDurationSeconds: 1 },
    log: (line) => logs.push(line),
    // The API server runs in this process: its CPU is this process's (the nodes' included).
    apiServerUsage: inProcessUsage(() => api.openWatches),
  });
}, 60_000);

afterAll(async () => {
  arrived?.stop();
  await cluster?.stop();
  await api?.close();
});

describe('three hollow nodes against the in-process API server', () => {
  it('register three Nodes that become Ready', async () => {
    expect(await until(() => names.every(ready), 60_000)).toBe(true);
    const node = api.registry.get(nodes(), undefined, 'hollow-node-2') as Obj;
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '172.16.0.3' });
    expect((node.status?.capacity as Record<string, string> | undefined)?.pods).toBe('110');
  });

  it("make FlexVolume's directory once, in the run's own dir: no node finds it missing", () => {
    expect(logs.filter((line) => line.includes('Flexvolume plugin directory'))).toEqual([]);
    expect(logs.filter((line) => line.includes('dynamic plugin prober'))).toEqual([]);
  });

  it('renew each Lease: renewTime advances', async () => {
    expect(await until(() => names.every((n) => renewTime(n) !== undefined), 30_000)).toBe(true);
    const first = names.map(renewTime);
    expect(await until(() => names.every((n, i) => renewTime(n) !== first[i]), 30_000)).toBe(true);
    for (const [i, n] of names.entries())
      expect(Date.parse(renewTime(n) ?? '')).toBeGreaterThan(Date.parse(first[i] ?? ''));
  });

  it('run a pod bound to node 2: Running with a pod IP from its subnet, and render its Service', async () => {
    api.registry.create(pods(), 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      // nginx is beyond the fake's mini shell: the hollow runtime runs it until stopped.
      spec: {
        nodeName: 'hollow-node-2',
        containers: [{ name: 'web', image: 'nginx:1.27', command: ['nginx'] }],
      },
    });
    api.registry.create(api.resource('v1', 'services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    const running = () => {
      const status = (api.registry.get(pods(), 'default', 'web') as Obj).status ?? {};
      return status.phase === 'Running' && typeof status.podIP === 'string'
        ? (status.podIP as string)
        : undefined;
    };
    expect(await until(() => running() !== undefined, 60_000)).toBe(true);
    const podIP = running() ?? '';
    expect(podIP).toMatch(/^10\.64\.2\.\d+$/);
    const dnat = `--to-destination ${podIP}:8080`;
    const rendered = async (index: number) =>
      ((await cluster.nodes[index]?.proxy?.iptables.saveText('nat')) ?? '').includes(dnat);
    expect(await until(() => rendered(2), 60_000)).toBe(true);
    // Every node's proxy renders the Service (each syncs on its own schedule); only node 2's kubelet runs the pod.
    expect(await until(() => rendered(0), 60_000)).toBe(true);
    expect(cluster.nodes[0]?.kubelet?.kubelet.getPods()).toEqual([]);
    expect((await cluster.report()).podsRunning).toBe(1);
  });

  it('report requests per node by verb and resource, the watches, the bytes and the API server', async () => {
    const report = await cluster.report();
    expect(report.nodes).toBe(3);
    for (const name of names) {
      const byKind = report.requests.byNode[name]?.byKind ?? {};
      // Registration, the Lease, the pod, Service, EndpointSlice and Node watches of each node.
      expect(byKind['POST nodes']).toBeGreaterThanOrEqual(1);
      expect(byKind['PUT leases']).toBeGreaterThanOrEqual(1);
      // The pod informer reads its initial state through a watch-list stream (a WATCH), not a LIST.
      expect(byKind['WATCH pods']).toBeGreaterThanOrEqual(1);
      expect(byKind['WATCH endpointslices']).toBeGreaterThanOrEqual(1);
    }
    // Only node 2 wrote a pod's status.
    expect(report.requests.byNode['hollow-node-2']?.byKind['PATCH pods/status']).toBeGreaterThanOrEqual(1);
    expect(report.requests.byNode['hollow-node-0']?.byKind['PATCH pods/status']).toBeUndefined();
    // Per node: pods, services (kubelet and proxy), endpointslices, its Node.
    expect(report.watches.open).toBeGreaterThanOrEqual(3 * 5);
    expect(report.requests.perNodePerMinute).toBeGreaterThan(0);
    // Beside upstream's profile for the same pods: the Lease renewed by both, no GET of the Node.
    expect(report.apiCostProfile.byKind['PUT leases']).toMatchObject({ upstream: 6 });
    expect(report.apiCostProfile.byKind['PUT leases']?.ours).toBeGreaterThan(0);
    expect(report.apiCostProfile.watches.upstream).toBe(9);
    expect(report.process.rssBytes).toBeGreaterThan(0);
    // Bytes on each node's own connections, both ways, as the server counted them on its sockets.
    for (const name of names) {
      const node = report.requests.byNode[name];
      expect(node?.bytesSent).toBeGreaterThan(0);
      expect(node?.bytesReceived).toBeGreaterThan(0);
      const server = arrived.perNode.get(name)?.sockets.totals();
      expect(server?.received).toBeGreaterThan(0);
    }
    expect(report.bytes.sent).toBe(
      names.reduce((sum, n) => sum + (report.requests.byNode[n]?.bytesSent ?? 0), 0),
    );
    expect(report.bytes.receivedPerNodePerMinute).toBeGreaterThan(0);
    // Over HTTPS each agent's requests and watches are streams on one HTTP/2 connection: a
    // node's kubelet and kube-proxy hold two, as upstream's; the server saw each node's.
    expect(report.connections.perNode).toBe(2);
    expect(report.connections.opened).toBeGreaterThanOrEqual(report.connections.open);
    expect(report.apiCostProfile.connections).toEqual({ ours: 2, upstream: 2 });
    for (const name of names) expect(arrived.perNode.get(name)?.sockets.open()).toBe(2);
    // The in-process API server's CPU (this process's) and the watches it serves: at least the nodes'.
    expect(report.apiServer).toMatchObject({ source: 'in-process' });
    if ('error' in report.apiServer) throw new Error(report.apiServer.error);
    expect(report.apiServer.cpuSeconds).toBeGreaterThan(0);
    expect(report.apiServer.watches).toBeGreaterThanOrEqual(3 * 5);
    expect(report.restartWaves).toEqual([]);
    // The API server saw them from the same node: its own user agent on every request.
    for (const name of names) {
      const server = arrived.perNode.get(name);
      expect(server?.byKind.get('POST nodes')).toBe(report.requests.byNode[name]?.byKind['POST nodes']);
      expect(server?.byKind.get('LIST pods')).toBe(report.requests.byNode[name]?.byKind['LIST pods']);
      expect(server?.openWatches).toBeGreaterThanOrEqual(5);
    }
  });
});
