/**
 * Where the kube-proxy's memory goes at scale (issue #54), in-process and stage by stage, for the
 * scale bench's cluster (apps/kube-proxy/bench/scale-cluster.ts): each EndpointSlice decoded from
 * its JSON text and slimmed as the informer caches it (the store), folded into the ProxyState
 * (EndpointInfo per endpoint), dropped from the store's slices and Services as watchCluster's retain does, snapshotted, and written into the nftables table (packed element ids and values).
 * After each stage: V8's heap after a full GC (what the stage retains) and the CPU it took.
 * KP_MEM_SERVICES (default 20000), KP_MEM_ENDPOINTS (default 50).
 * Run: node --expose-gc --import tsx --conditions=@nodeagent/source apps/kube-proxy/bench/scale-memory.ts
 */
import { loadavg } from 'node:os';
import { ProxyState } from '@nodeagent/kube-proxy';
import { retainedService } from '@nodeagent/kube-proxy/model';
import { NftablesRuleset, nftLocalDetector } from '@nodeagent/kube-proxy/nftables';
import { CLUSTER_CIDR, endpointSlice, initialAddresses, serviceSpec } from './scale-cluster';

const SERVICES = Number(process.env.KP_MEM_SERVICES ?? 20_000);
const ENDPOINTS = Number(process.env.KP_MEM_ENDPOINTS ?? 50);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const mb = (b: number) => Math.round(b / 1e5) / 10;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

let lastHeap = 0;
let lastCpu = cpuMs();
const rows: Record<string, unknown>[] = [];
function mark(stage: string): void {
  const c = cpuMs();
  gc!();
  gc!();
  const heap = process.memoryUsage().heapUsed;
  rows.push({
    stage,
    cpuMs: Math.round(c - lastCpu),
    heapMB: mb(heap),
    retainedMB: mb(heap - lastHeap),
    // What the stage keeps per endpoint of the cluster (the table: its ~2 elements per endpoint).
    perEndpointB: Math.round((heap - lastHeap) / (SERVICES * ENDPOINTS)),
  });
  lastHeap = heap;
  lastCpu = cpuMs();
}

/** The Service as the daemon's informer receives it (managedFields stripped; what the API server adds). */
function service(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `svc-${i}`,
      namespace: 'bench',
      labels: { app: `svc-${i}` },
      uid: `0b7c3f2e-5d1a-4c8e-9f00-${String(i).padStart(12, '0')}`,
      resourceVersion: String(1000 + i),
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: serviceSpec(i),
  };
}

/** What watchCluster's slimEndpointSlice keeps of a slice. */
// biome-ignore lint/suspicious/noExplicitAny: JSON as decoded
function slim(s: any) {
  const { managedFields: _m, ownerReferences: _o, ...metadata } = s.metadata;
  s.metadata = metadata;
  // biome-ignore lint/suspicious/noExplicitAny: JSON as decoded
  s.endpoints = s.endpoints.map(({ targetRef: _t, ...ep }: any) => ep);
  return s;
}

mark('start');
const store = new Map<string, unknown>();
const services = new Map<string, unknown>();
for (let i = 0; i < SERVICES; i++) {
  services.set(`bench/svc-${i}`, JSON.parse(JSON.stringify(service(i))));
  const text = JSON.stringify(endpointSlice(i, initialAddresses(i, ENDPOINTS)));
  store.set(`bench/svc-${i}-abcde`, slim(JSON.parse(text)));
}
mark('informer stores (decoded, slimmed)');
const state = new ProxyState('IPv4', 'bench-node');
// biome-ignore lint/suspicious/noExplicitAny: JSON as decoded
for (const s of services.values()) state.onService(undefined, s as any);
// biome-ignore lint/suspicious/noExplicitAny: JSON as decoded
for (const s of store.values()) state.onEndpointSlice(s as any, false);
mark('trackers fed');
// As watchCluster's retain: once the tracker has converted a slice, the store keeps it without
// its endpoints (the stage above is the start-up peak, where a watch-list stream holds them all).
// biome-ignore lint/suspicious/noExplicitAny: JSON as decoded
for (const s of store.values()) (s as any).endpoints = [];
mark('store keeps slices without endpoints');
// As watchCluster's Service retain: the cache keeps only what an update's old Service is read for.
// biome-ignore lint/suspicious/noExplicitAny: JSON as decoded
for (const [key, s] of services) services.set(key, retainedService(s as any));
mark('store keeps Services retained');
const snapshot = state.snapshot();
mark('snapshot (EndpointInfo)');
const ruleset = new NftablesRuleset('IPv4', {
  localDetector: nftLocalDetector({ cidr: CLUSTER_CIDR, ipv6: false }),
});
ruleset.update(snapshot);
mark('nftables table');
let elements = 0;
ruleset.table.forEachElementText(() => {
  elements++;
});
mark('element texts visited');
ruleset.commit();
mark('committed');
process.stdout.write(
  `${JSON.stringify({ services: SERVICES, endpoints: ENDPOINTS, elements, load1: loadavg()[0], rows }, null, 1)}\n`,
);
// Keep everything reachable until the last mark.
if (store.size + services.size < 0) console.log(snapshot, ruleset);
