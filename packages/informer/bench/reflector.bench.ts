// Benchmarks for @nodeagent/informer, with baselines run in the same process:
//  1. Reflector throughput: 100k pod MODIFIED events through one watch, into the indexed store
//     with handlers and deltas; baseline: @kubernetes/client-node's own Watch on the same stream
//     (parse + callback, no store).
//  2. Store memory at 10k Services and 100k endpoints in 1,000 EndpointSlices; baseline: the same
//     objects in a plain Map (so the ratio is the cost of indexes and bookkeeping).
//  3. Store upsert rate vs a plain Map.set.
// Writes bench-results/informer.json at the repository root.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type V1EndpointSlice, type V1Pod, type V1Service, Watch } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { Bench } from 'tinybench';
import {
  IndexedStore,
  Informer,
  type InformerObject,
  KubeListerWatcher,
  type ListerWatcher,
  objectKey,
  type Wire,
} from '../src/index';

const EVENTS = Number(process.env.INFORMER_BENCH_EVENTS ?? 100_000);
const PODS = 1_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function prepareServer(): Promise<{ server: ApiServer; fromRv: string }> {
  const server = await startApiServer({ historyWindow: EVENTS + PODS + 100, bookmarkIntervalMs: 60_000 });
  const pods = server.resource('v1', 'pods');
  const fromRv = String(server.store.resourceVersion);
  for (let i = 0; i < PODS; i++) {
    server.registry.create(pods, 'default', {
      metadata: { name: `pod-${i}`, labels: { app: `app-${i % 50}` } },
      spec: { nodeName: `node-${i % 20}`, containers: [{ name: 'c', image: 'img:1' }] },
    });
  }
  let n = PODS;
  for (let round = 0; n < EVENTS; round++) {
    for (let i = 0; i < PODS && n < EVENTS; i++, n++) {
      const name = `pod-${i}`;
      const p = server.registry.get(pods, 'default', name);
      server.registry.update(
        pods,
        'default',
        name,
        { ...p, status: { phase: 'Running', podIP: `10.244.${round % 250}.${i % 250}` } },
        'status',
      );
    }
  }
  return { server, fromRv };
}

/** Watch the prepared history from `fromRv` through the full informer; resolves at EVENTS events. */
async function informerRun(server: ApiServer, fromRv: string): Promise<void> {
  const inner = new KubeListerWatcher<Wire<V1Pod>>(server.kubeConfig(), { apiVersion: 'v1', plural: 'pods' });
  // An empty first page at `fromRv` makes the watch replay the whole prepared history.
  const lw: ListerWatcher<Wire<V1Pod>> = {
    list: async () => ({ items: [], resourceVersion: fromRv }),
    watch: (o, on, s) => inner.watch(o, on, s),
  };
  const inf = new Informer<Wire<V1Pod>>({
    listerWatcher: lw,
    indexers: { byNode: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
    watchTimeoutSeconds: 600,
    trackDeltas: true,
  });
  let seen = 0;
  await new Promise<void>((resolve) => {
    inf.onChange((changes) => {
      seen += changes.length;
      if (seen >= EVENTS) resolve();
    });
    inf.start();
  });
  inf.takeDeltas();
  await inf.stop();
}

async function clientNodeWatchRun(server: ApiServer, fromRv: string): Promise<void> {
  const watch = new Watch(server.kubeConfig());
  let seen = 0;
  let controller: AbortController | undefined;
  await new Promise<void>((resolve, reject) => {
    watch
      .watch(
        '/api/v1/pods',
        { resourceVersion: fromRv, timeoutSeconds: 600 },
        () => {
          seen++;
          if (seen >= EVENTS) resolve();
        },
        (err) => (err ? reject(err) : undefined),
      )
      .then((c) => {
        controller = c;
      }, reject);
  });
  controller?.abort();
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function services(n: number): Wire<V1Service>[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `svc-${i}`,
      namespace: `ns-${i % 100}`,
      resourceVersion: String(i + 1),
      uid: `uid-svc-${i}`,
      labels: { app: `app-${i}` },
    },
    spec: {
      clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`,
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      selector: { app: `app-${i}` },
      type: 'ClusterIP',
    },
  }));
}

function slices(n: number, perSlice: number): Wire<V1EndpointSlice>[] {
  return Array.from({ length: n }, (_, s) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: 'IPv4',
    metadata: {
      name: `svc-${s}-abcde`,
      namespace: `ns-${s % 100}`,
      resourceVersion: String(s + 1),
      labels: { 'kubernetes.io/service-name': `svc-${s}` },
    },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: perSlice }, (_, e) => ({
      addresses: [`10.${(s >> 8) & 255}.${s & 255}.${e}`],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${e % 20}`,
      targetRef: { kind: 'Pod', namespace: `ns-${s % 100}`, name: `pod-${s}-${e}` },
    })),
  }));
}

interface Fixtures {
  svcJson: string;
  sliceJson: string;
}

function fixtures(): Fixtures {
  // Built in their own frame so the temporary object graphs are garbage before measuring.
  return { svcJson: JSON.stringify(services(10_000)), sliceJson: JSON.stringify(slices(1_000, 100)) };
}

function fillPlain(f: Fixtures): Map<string, InformerObject>[] {
  const svc = new Map<string, InformerObject>();
  for (const s of JSON.parse(f.svcJson) as Wire<V1Service>[]) svc.set(objectKey(s), s);
  const sl = new Map<string, InformerObject>();
  for (const s of JSON.parse(f.sliceJson) as Wire<V1EndpointSlice>[]) sl.set(objectKey(s), s);
  return [svc, sl];
}

function fillStores(f: Fixtures): [IndexedStore<Wire<V1Service>>, IndexedStore<Wire<V1EndpointSlice>>] {
  const svc = new IndexedStore<Wire<V1Service>>({ namespace: (o) => [o.metadata?.namespace ?? ''] });
  svc.replace(JSON.parse(f.svcJson) as Wire<V1Service>[]);
  const sl = new IndexedStore<Wire<V1EndpointSlice>>({
    namespace: (o) => [o.metadata?.namespace ?? ''],
    serviceName: (o) => [o.metadata?.labels?.['kubernetes.io/service-name'] ?? ''],
  });
  sl.replace(JSON.parse(f.sliceJson) as Wire<V1EndpointSlice>[]);
  return [svc, sl];
}

/** Retained heap of what `build` returns, measured across event-loop turns with forced GCs. */
async function retained<T>(build: () => T): Promise<{ bytes: number; held: T }> {
  await new Promise((r) => setImmediate(r));
  const before = heapUsed();
  const held = build();
  await new Promise((r) => setImmediate(r));
  return { bytes: heapUsed() - before, held };
}

async function measureMemory(): Promise<Record<string, number>> {
  const f = fixtures();
  const plain = await retained(() => fillPlain(f));
  const plainBytes = plain.bytes;
  plain.held.length = 0;
  const stores = await retained(() => fillStores(f));
  const [svcStore, sliceStore] = stores.held;
  return {
    services: svcStore.size,
    endpoints: sliceStore.list().reduce((n, s) => n + (s.endpoints?.length ?? 0), 0),
    storeMiB: stores.bytes / 2 ** 20,
    plainMapMiB: plainBytes / 2 ** 20,
    ratioStoreToPlain: stores.bytes / plainBytes,
  };
}

async function main(): Promise<void> {
  // Memory first, on a quiet heap (the throughput run leaves a large server history behind).
  const memory = await measureMemory();
  const { server, fromRv } = await prepareServer();
  const bench = new Bench({ iterations: 2, time: 0, warmup: false });
  bench.add(`client-node Watch (baseline), ${EVENTS} events`, () => clientNodeWatchRun(server, fromRv));
  bench.add(`Informer (reflector+store+deltas), ${EVENTS} events`, () => informerRun(server, fromRv));
  await bench.run();
  await server.close();

  const svcs = services(10_000);
  const upserts = new Bench({ time: 500 });
  upserts.add('Map.set 10k services (baseline)', () => {
    const m = new Map<string, Wire<V1Service>>();
    for (const s of svcs) m.set(objectKey(s), s);
  });
  upserts.add('IndexedStore.upsert 10k services (2 indexes)', () => {
    const st = new IndexedStore<Wire<V1Service>>({ app: (o) => [o.metadata?.labels?.app ?? ''] });
    for (const s of svcs) st.upsert(s);
  });
  await upserts.run();

  const mean = (b: Bench, i: number): number => {
    const r = b.tasks[i]?.result;
    if (r?.state !== 'completed') throw new Error(`bench task ${b.tasks[i]?.name} did not complete`);
    return r.latency.mean;
  };
  const watchBase = mean(bench, 0);
  const watchInf = mean(bench, 1);
  const results = {
    package: '@nodeagent/informer',
    date: new Date().toISOString(),
    node: process.version,
    throughput: {
      events: EVENTS,
      clientNodeWatchMs: watchBase,
      informerMs: watchInf,
      clientNodeEventsPerSec: (EVENTS / watchBase) * 1000,
      informerEventsPerSec: (EVENTS / watchInf) * 1000,
      ratioInformerToClientNodeTime: watchInf / watchBase,
    },
    upsert10k: {
      mapSetMs: mean(upserts, 0),
      storeUpsertMs: mean(upserts, 1),
      ratioStoreToMap: mean(upserts, 1) / mean(upserts, 0),
    },
    memory,
  };
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', 'informer.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
}

await main();
