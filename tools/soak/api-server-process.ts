/**
 * The soak's API server, in a process of its own so its work is not the bench's: @nodeagent/
 * testing's in-process server over HTTPS, and the kube-proxy side's cluster and churn written
 * straight into its registry (10 endpoint changes a second, a Service added and one removed every
 * 10 s, a Node label change every 30 s). Argument: the JSON of ServerConfig. It prints one JSON
 * line when ready ({ ready, kubeconfig, kubeProxyKubeconfig? }), then reads commands on stdin:
 * `restart` (every watch broken, the history compacted so every informer relists, as after a
 * kube-apiserver restart whose watch cache starts at etcd's current revision), `churn` (start the
 * kube-proxy churn). It exits when stdin closes, so a killed bench leaves no server behind.
 */
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { kubeconfigYaml, openNetns, startApiServer } from '@nodeagent/testing';
import { listenInNetns } from '@nodeagent/testing/netns';
import {
  BENCH_NAMESPACE,
  endpointSlice,
  initialAddresses,
  NODE_NAME,
  podIP,
  populateCluster,
  serviceSpec,
} from '../../apps/kube-proxy/bench/scale-cluster';
import { API_PORT } from '../../apps/kube-proxy/bench/scale-daemon';

export interface ServerConfig {
  /** Where the host-side kubeconfig goes (the kubelet's, and the bench's own client). */
  kubeconfig: string;
  /** With kube-proxy: its namespace (served at 127.0.0.1:API_PORT there) and the cluster's shape. */
  kubeProxy?: { netns: string; kubeconfig: string; services: number; endpoints: number };
}

const TRIGGER = 'endpoints.kubernetes.io/last-change-trigger-time';
const config = JSON.parse(process.argv[2] as string) as ServerConfig;
// Bookmarks about once a minute, as kube-apiserver's watch cache sends them.
const api = await startApiServer({ tls: true, bookmarkIntervalMs: 60_000 });
api.writeKubeconfig(config.kubeconfig);
const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

/** The slice of Service i with endpoint 0 at `address`, stamped as the EndpointSlice controller stamps a change. */
function changedSlice(i: number, endpoints: number, address: string) {
  const addresses = initialAddresses(i, endpoints);
  addresses[0] = address;
  const slice = endpointSlice(i, addresses);
  return { ...slice, metadata: { ...slice.metadata, annotations: { [TRIGGER]: new Date().toISOString() } } };
}

function startChurn(services: number, endpoints: number): void {
  const svcType = api.resource('v1', 'services');
  const sliceType = api.resource('discovery.k8s.io/v1', 'endpointslices');
  const nodeType = api.resource('v1', 'nodes');
  let change = 0;
  // Endpoint changes go to the initial Services; the added ones come and go above them.
  setInterval(() => {
    const i = change % services;
    api.registry.update(
      sliceType,
      BENCH_NAMESPACE,
      `svc-${i}-abcde`,
      changedSlice(i, endpoints, podIP(services * endpoints + change)),
    );
    change++;
  }, 100);
  const extra: number[] = [];
  let next = services;
  setInterval(() => {
    const i = next++;
    api.registry.create(svcType, BENCH_NAMESPACE, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: BENCH_NAMESPACE, labels: { app: `svc-${i}` } },
      spec: serviceSpec(i),
    });
    api.registry.create(sliceType, BENCH_NAMESPACE, changedSlice(i, endpoints, podIP(i * endpoints)));
    extra.push(i);
    // One removed: the oldest added one (the cluster stays at `services` + 1).
    if (extra.length > 1) {
      const gone = extra.shift() as number;
      api.registry.delete(sliceType, BENCH_NAMESPACE, `svc-${gone}-abcde`);
      api.registry.delete(svcType, BENCH_NAMESPACE, `svc-${gone}`);
    }
  }, 10_000);
  let label = 0;
  setInterval(() => {
    const node = api.registry.get(nodeType, undefined, NODE_NAME) as {
      metadata: { labels?: Record<string, string> };
    };
    const labels = { ...node.metadata.labels, 'soak.nodeagent.dev/tick': String(++label) };
    api.registry.update(nodeType, undefined, NODE_NAME, { ...node, metadata: { ...node.metadata, labels } });
  }, 30_000);
}

if (config.kubeProxy) {
  const kp = config.kubeProxy;
  populateCluster(api, kp.services, kp.endpoints);
  // Served inside the agent's namespace itself: nothing between kube-proxy and the server.
  api.serve(await listenInNetns(openNetns(kp.netns), API_PORT));
  writeFileSync(kp.kubeconfig, kubeconfigYaml(`https://127.0.0.1:${API_PORT}`, api.caCertificate), {
    mode: 0o600,
  });
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line === 'restart') {
      api.faults.compactHistory();
      api.faults.dropWatches();
      out({ restarted: Date.now() });
    } else if (line === 'churn' && config.kubeProxy) {
      startChurn(config.kubeProxy.services, config.kubeProxy.endpoints);
      out({ churning: Date.now() });
    }
  })
  .on('close', () => {
    void api.close().finally(() => process.exit(0));
  });
out({ ready: true, kubeconfig: config.kubeconfig, kubeProxyKubeconfig: config.kubeProxy?.kubeconfig });
