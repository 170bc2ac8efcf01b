/**
 * What N hollow nodes cost, in one nodeagent-hollow-node process (the bundled entry) against the
 * in-process API server of @nodeagent/testing over HTTP (NA_HOLLOW_TLS=1: over HTTPS, where the
 * agents speak HTTP/2, as to a cluster's), for N = 10 and 100 (NA_HOLLOW_NODES, comma-separated). Each run: start, every Node Ready, an idle window of NA_HOLLOW_IDLE_WINDOW_S
 * seconds (default 60: the nodes' requests with no pods), then NA_HOLLOW_PODS pods per node
 * (default 30, each with a ConfigMap, a Secret, a projected and a downward-API volume, and the
 * kube-api-access volume the ServiceAccount admission adds) created bound to their nodes
 * (NA_HOLLOW_POD_RATE a second, default 300) and all Running, NA_HOLLOW_SETTLE_S seconds (default
 * 15; also before the idle window) to settle, then a steady window of NA_HOLLOW_WINDOW_S seconds
 * (default 60) in which the hollow process's CPU (/proc/<pid>/stat) and the requests the
 * API server receives from each node (counted where they arrive, by the node's user agent, by
 * verb and resource as apiserver_request_total would) are measured, with the bytes on each node's
 * connections (counted on the server's sockets) and the API server's CPU (this bench process's:
 * the server runs here, with the counting beside it); at the window's end the working set and
 * anon of the hollow process's memory cgroup (each agent of the real node has one too), then RSS.
 * Beside them, in the same run, one real node of ours (real-node.ts: the nodeagent-kubelet and
 * nodeagent-kube-proxy processes in a network namespace, the kubelet on the fake CRI runtime) with
 * as many pods, its requests counted by the same counter in the same window (every request
 * without a hollow node's user agent is its), reported as `realNode` with a `comparison`; its
 * fake runtime is served from this process, so its CRI calls are in the API server's CPU too.
 * NA_HOLLOW_REAL_NODE=0 leaves it out (requests nobody's are then `unattributedRequestsPerMinute`).
 * Each window's `apiCostProfile` sets a hollow node's requests by kind, watches and bytes beside
 * what upstream's kubelet and kube-proxy would make on the same node (upstream-api-profile.ts).
 * Results: bench-results/hollow-node.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiServer, cgroupMemory, processMemory, startApiServer } from '@nodeagent/testing';
import { apiCostProfile } from '../src/api-cost-profile';
import { type NodeRequests, RequestCounter } from '../src/request-counter';
import { type NodeWorkload, upstreamApiProfile } from '../src/upstream-api-profile';
import { runBundled } from './bundled-runs';
import { type RealNode, startRealNode } from './real-node';

const { cpuSeconds, mib, sleep, statusField, waitFor } = processMemory;
const sizes = (process.env.NA_HOLLOW_NODES ?? '10,100').split(',').map(Number);
const podsPerNode = Number(process.env.NA_HOLLOW_PODS ?? 30);
/** The window with every node Ready and no pods (0: none). */
const idleWindowSeconds = Number(process.env.NA_HOLLOW_IDLE_WINDOW_S ?? 60);
/** The app ConfigMaps and Secrets pods use (pod i: number i % APPS): how many distinct objects a node's pods reference. */
const APPS = 3;
const windowSeconds = Number(process.env.NA_HOLLOW_WINDOW_S ?? 60);
/**
 * After every pod is Running, before the window: the nodes' first status after their image pulls
 * (a PATCH with the new image list at the next 10 s status check) is start-up, not steady state.
 */
const settleSeconds = Number(process.env.NA_HOLLOW_SETTLE_S ?? 15);
/** Serve HTTPS, where the agents speak HTTP/2 (one connection an agent), instead of HTTP. */
const overTls = process.env.NA_HOLLOW_TLS === '1';
const withRealNode = process.env.NA_HOLLOW_REAL_NODE !== '0';
/** How long all pods may take to be Running (NA_HOLLOW_PODS_TIMEOUT_S, default 900): longer on a busy machine. */
const podsTimeoutSeconds = Number(process.env.NA_HOLLOW_PODS_TIMEOUT_S ?? 900);
/** The hollow process's --workers (NA_HOLLOW_WORKERS; unset: the binary's default, one a core). */
const workers = process.env.NA_HOLLOW_WORKERS;
const REAL_NODE = 'real-node-0';
/** Without the real node, who the requests without a hollow user agent count for (none expected). */
const UNATTRIBUTED = '(no hollow user agent)';
const IMAGE = 'nginx:1.27';
const round = (v: number) => Number(v.toFixed(3));

type Obj = { status?: { phase?: string; conditions?: { type: string; status: string }[] } };

function readyNodes(api: ApiServer): number {
  const nodes = api.registry.list(api.resource('v1', 'nodes'), undefined) as unknown as Obj[];
  return nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .length;
}

function runningPods(api: ApiServer): number {
  const pods = api.registry.list(api.resource('v1', 'pods'), 'default') as unknown as Obj[];
  return pods.filter((p) => p.status?.phase === 'Running').length;
}

/**
 * Pods bound per second (NA_HOLLOW_POD_RATE, default 300): a cluster's pods arrive at the rate
 * kube-scheduler binds them (a few hundred a second at most), not all at once. 30,000 created in
 * one instant made the one hollow process open files for thousands of pod starts at once, past
 * its 20,000 descriptors, which N separate machines would not share.
 */
const podRate = Number(process.env.NA_HOLLOW_POD_RATE ?? 300);

/** The ConfigMaps and Secrets the pods reference, one pair per app. */
function createAppObjects(api: ApiServer): void {
  for (let k = 0; k < APPS; k++) {
    api.registry.create(api.resource('v1', 'configmaps'), 'default', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `app-config-${k}`, namespace: 'default' },
      data: { mode: `mode-${k}`, 'app.conf': 'x'.repeat(512) },
    });
    api.registry.create(api.resource('v1', 'secrets'), 'default', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `app-secret-${k}`, namespace: 'default' },
      data: { token: Buffer.from(`secret-${k}`).toString('base64') },
    });
  }
}

/**
 * Pod `i` of `node`: its app's ConfigMap and Secret as volumes, both again with the pod's labels
 * in a projected volume, a downward-API volume, and the app's mode in its environment.
 */
function benchPod(node: string, i: number) {
  const app = i % APPS;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${node}-pod-${i}`, namespace: 'default', labels: { app: `app-${app}` } },
    spec: {
      nodeName: node,
      containers: [
        {
          name: 'app',
          image: IMAGE,
          env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: `app-config-${app}`, key: 'mode' } } }],
          volumeMounts: ['config', 'secret', 'projected', 'podinfo'].map((name) => ({
            name,
            mountPath: `/${name}`,
          })),
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: `app-config-${app}` } },
        { name: 'secret', secret: { secretName: `app-secret-${app}` } },
        {
          name: 'projected',
          projected: {
            sources: [
              { configMap: { name: `app-config-${app}`, items: [{ key: 'mode', path: 'mode' }] } },
              { secret: { name: `app-secret-${app}` } },
              { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
            ],
          },
        },
        {
          name: 'podinfo',
          downwardAPI: {
            items: [
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              { path: 'cpu_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu' } },
            ],
          },
        },
      ],
    },
  };
}

/**
 * What runs on one node once its pods are there: each has the kube-api-access token, and the
 * node's pods reference the namespace's kube-root-ca.crt and min(pods, APPS) app ConfigMaps and Secrets.
 */
function nodeWorkload(pods: number): NodeWorkload {
  const apps = Math.min(pods, APPS);
  return { pods, tokenPods: pods, configMaps: pods > 0 ? apps + 1 : 0, secrets: apps };
}

/** Creates each node's pods, node after node, `podRate` a second. */
async function createPods(api: ApiServer, nodes: string[]): Promise<void> {
  const batch = Math.max(1, Math.round(podRate / 10));
  let made = 0;
  for (const node of nodes)
    for (let i = 0; i < podsPerNode; i++) {
      api.registry.create(api.resource('v1', 'pods'), 'default', benchPod(node, i));
      if (++made % batch === 0) await sleep(100);
    }
}

async function rssBytes(pid: number): Promise<number> {
  return statusField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
}

/** Working set and anon of the memory cgroups `pids` run in (each its own), summed; undefined without them. */
async function cgroupsOf(pids: number[]): Promise<{ workingSet: number; anon: number } | undefined> {
  let workingSet = 0;
  let anon = 0;
  for (const pid of pids) {
    const m = await cgroupMemory.readBenchCgroupOf(pid);
    if (!m) return undefined;
    workingSet += m.workingSetBytes;
    anon += m.anonBytes;
  }
  return { workingSet, anon };
}

async function cpuOf(pids: number[]): Promise<number> {
  let sum = 0;
  for (const pid of pids) sum += await cpuSeconds(pid);
  return sum;
}

type EventObj = {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string };
  firstTimestamp?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string };
  source?: { host?: string };
};

function allEvents(api: ApiServer): EventObj[] {
  return api.registry.list(api.resource('v1', 'events'), undefined) as unknown as EventObj[];
}

/**
 * The events created in the window (names not there at its start), by "<involved kind> <reason>"
 * and by who sent them (hollow or real node): what the window's POST events are. `maxLagSeconds`:
 * the longest time from the kubelet's recording (firstTimestamp) to the API server storing it
 * (creationTimestamp), both whole seconds: an event written late, not an event of the window.
 */
function eventsCreatedSince(before: Set<string>, after: EventObj[]) {
  const byReason: Record<string, { hollow: number; real: number; maxLagSeconds: number; example: string }> =
    {};
  for (const e of after) {
    const key = `${e.metadata?.namespace}/${e.metadata?.name}`;
    if (before.has(key)) continue;
    const reason = `${e.involvedObject?.kind} ${e.reason}`;
    const entry = byReason[reason] ?? { hollow: 0, real: 0, maxLagSeconds: 0, example: e.message ?? '' };
    byReason[reason] = entry;
    if (e.source?.host === REAL_NODE) entry.real++;
    else entry.hollow++;
    const lag = (Date.parse(e.metadata?.creationTimestamp ?? '') - Date.parse(e.firstTimestamp ?? '')) / 1000;
    if (lag > entry.maxLagSeconds) entry.maxLagSeconds = Math.round(lag);
  }
  return byReason;
}

const eventKeys = (events: EventObj[]) =>
  new Set(events.map((e) => `${e.metadata?.namespace}/${e.metadata?.name}`));

/** "VERB resource" → requests per node per minute, sorted. */
function perMinute(byKind: Map<string, number>, n: number, minutes: number): Record<string, number> {
  return Object.fromEntries(
    [...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, round(v / n / minutes)]),
  );
}

/** The real node's window: its requests, watches, connections and bytes, and its two processes' CPU and RSS. */
function realNodeFigures(
  c: NodeRequests,
  minutes: number,
  cpu: number,
  rss: number,
  charged: { workingSet: number; anon: number } | undefined,
) {
  const carried = c.sockets.totals();
  return {
    name: REAL_NODE,
    requestsPerMinute: round(c.total / minutes),
    byKind: perMinute(c.byKind, 1, minutes),
    watches: c.openWatches,
    // Its two executables' connections as the server holds them: open now, opened in the window.
    connections: { open: c.sockets.open(), opened: carried.opened },
    // The server's sockets: what it received is what the node sent.
    bytes: {
      sentPerMinute: Math.round(carried.received / minutes),
      receivedPerMinute: Math.round(carried.sent / minutes),
    },
    cpuSecondsPerMinute: round(cpu / minutes),
    ...(charged ? { workingSetMiB: mib(charged.workingSet), anonMiB: mib(charged.anon) } : {}),
    rssMiB: mib(rss),
  };
}

/**
 * A hollow node against the real one: the ratio of their requests per minute, and each kind
 * whose rates differ by more than a quarter (or that only one of them sends).
 */
function comparison(
  hollow: Record<string, number>,
  hollowTotal: number,
  real: ReturnType<typeof realNodeFigures>,
) {
  const differing: Record<string, { hollow: number; real: number }> = {};
  for (const kind of new Set([...Object.keys(hollow), ...Object.keys(real.byKind)])) {
    const [h, r] = [hollow[kind] ?? 0, real.byKind[kind] ?? 0];
    if (Math.abs(h - r) > 0.25 * Math.max(h, r)) differing[kind] = { hollow: h, real: r };
  }
  return {
    hollowOverReal: round(hollowTotal / real.requestsPerMinute),
    hollowAtMostReal: hollowTotal <= real.requestsPerMinute,
    differingKinds: differing,
  };
}

/** The hollow nodes' requests, watches, connections and bytes counted since the last reset, a node a minute. */
function hollowFigures(counter: RequestCounter, names: string[], minutes: number) {
  const n = names.length;
  const byKind = new Map<string, number>();
  let total = 0;
  let openWatches = 0;
  let connections = 0;
  let opened = 0;
  const bytes = { sent: 0, received: 0 };
  for (const name of names) {
    const c = counter.perNode.get(name) as NodeRequests;
    total += c.total;
    openWatches += c.openWatches;
    connections += c.sockets.open();
    // The server's sockets: what it received is what the node sent.
    const carried = c.sockets.totals();
    bytes.sent += carried.received;
    bytes.received += carried.sent;
    opened += carried.opened;
    for (const [k, v] of c.byKind) byKind.set(k, (byKind.get(k) ?? 0) + v);
  }
  return {
    requestsPerNodePerMinute: round(total / n / minutes),
    requestsPerNodePerMinuteByKind: perMinute(byKind, n, minutes),
    watchesPerNode: round(openWatches / n),
    connectionsPerNode: round(connections / n),
    connectionsOpenedPerNodePerMinute: round(opened / n / minutes),
    bytesSentPerNodePerMinute: Math.round(bytes.sent / n / minutes),
    bytesReceivedPerNodePerMinute: Math.round(bytes.received / n / minutes),
  };
}

/** One window's figures beside what upstream's agents would make on the same node. */
function costProfile(figures: ReturnType<typeof hollowFigures>, workload: NodeWorkload, seconds: number) {
  return apiCostProfile(
    {
      byKind: figures.requestsPerNodePerMinuteByKind,
      watches: figures.watchesPerNode,
      connections: figures.connectionsPerNode,
      windowSeconds: seconds,
      bytesPerMinute: {
        sent: figures.bytesSentPerNodePerMinute,
        received: figures.bytesReceivedPerNodePerMinute,
      },
    },
    upstreamApiProfile(workload),
    workload,
  );
}

/** Rethrows `error` with the real node's agents' stderr. */
function withLogs(real: RealNode | undefined) {
  return (error: Error): never => {
    throw real ? new Error(`${error.message}\n${real.logs()}`) : error;
  };
}

/** One run of `n` nodes: start-up time, then the steady window's figures. */
async function measure(cli: string, n: number) {
  // As a real cluster stores pods: the kube-api-access volume, kube-root-ca.crt in every namespace.
  const api = await startApiServer({ serviceAccountTokenVolume: true, tls: overTls });
  createAppObjects(api);
  const dir = mkdtempSync(join(tmpdir(), `na-hollow-bench-${process.pid}-`));
  const kubeconfig = join(dir, 'kubeconfig');
  api.writeKubeconfig(kubeconfig);
  const names = Array.from({ length: n }, (_, i) => `hollow-node-${i}`);
  const others = withRealNode ? REAL_NODE : UNATTRIBUTED;
  const counter = new RequestCounter(names, api, others);
  counter.start();
  let stdout = '';
  let real: RealNode | undefined;
  let child: ChildProcess | undefined;
  const cgroup = cgroupMemory.tryCreate('hollow-node');
  try {
    // First, so that the hollow nodes' start-up time is theirs alone.
    if (withRealNode) real = await startRealNode(api, dir, REAL_NODE, IMAGE);
    const started = Date.now();
    const workerFlag = workers === undefined ? [] : ['--workers', workers];
    const direct = {
      command: process.execPath,
      args: [cli, '--kubeconfig', kubeconfig, '--nodes', String(n), ...workerFlag],
    };
    const { command, args } = cgroup ? cgroup.wrap(direct.command, direct.args) : direct;
    child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout?.on('data', (c: Buffer) => (stdout += c));
    const podNodes = real ? [...names, real.name] : names;
    await waitFor(
      async () => readyNodes(api) === podNodes.length || undefined,
      600_000,
      'every node Ready',
    ).catch(withLogs(real));
    const readySeconds = (Date.now() - started) / 1000;
    let idle:
      | (ReturnType<typeof hollowFigures> & { apiCostProfile: ReturnType<typeof costProfile> })
      | undefined;
    if (idleWindowSeconds > 0) {
      // The start-up writes (registration, first status, images) are not steady state.
      await sleep(settleSeconds * 1000);
      counter.resetCounts();
      await sleep(idleWindowSeconds * 1000);
      const figures = hollowFigures(counter, names, idleWindowSeconds / 60);
      idle = { ...figures, apiCostProfile: costProfile(figures, nodeWorkload(0), idleWindowSeconds) };
    }
    await createPods(api, podNodes);
    await waitFor(
      async () => runningPods(api) === podNodes.length * podsPerNode || undefined,
      podsTimeoutSeconds * 1000,
      'every pod Running',
    ).catch(withLogs(real));
    const podsSeconds = (Date.now() - started) / 1000 - readySeconds;
    await sleep(settleSeconds * 1000);
    const pid = child.pid ?? 0;
    counter.resetCounts();
    const eventsBefore = eventKeys(allEvents(api));
    const cpuBefore = await cpuSeconds(pid);
    const realCpuBefore = real ? await cpuOf(real.pids) : 0;
    const serverCpuBefore = process.cpuUsage();
    await sleep(windowSeconds * 1000);
    const cpu = (await cpuSeconds(pid)) - cpuBefore;
    const realCpu = real ? (await cpuOf(real.pids)) - realCpuBefore : 0;
    const serverCpu = process.cpuUsage(serverCpuBefore);
    const charged = await cgroupsOf([pid]);
    const rss = await rssBytes(pid);
    const eventsInWindow = eventsCreatedSince(eventsBefore, allEvents(api));
    const realCharged = real ? await cgroupsOf(real.pids) : undefined;
    let realRss = 0;
    for (const p of real?.pids ?? []) realRss += await rssBytes(p);
    const minutes = windowSeconds / 60;
    const figures = hollowFigures(counter, names, minutes);
    const hollowByKind = figures.requestsPerNodePerMinuteByKind;
    const otherRequests = counter.perNode.get(others) as NodeRequests;
    const realNode = real
      ? realNodeFigures(otherRequests, minutes, realCpu, realRss, realCharged)
      : undefined;
    const result = {
      nodes: n,
      workers: workers ?? 'default',
      apiServer: overTls ? 'https' : 'http',
      podsPerNode,
      windowSeconds,
      settleSeconds,
      secondsToAllReady: round(readySeconds),
      secondsToAllPodsRunning: round(podsSeconds),
      // What the node charges the hollow process (its memory cgroup), then VmRSS.
      ...(charged
        ? {
            workingSetMiB: mib(charged.workingSet),
            anonMiB: mib(charged.anon),
            workingSetMiBPerNode: round(charged.workingSet / n / 1048576),
          }
        : {}),
      rssMiB: mib(rss),
      rssMiBPerNode: round(rss / n / 1048576),
      cpuSecondsPerNodePerMinute: round(cpu / n / minutes),
      cpuCoresUsed: round(cpu / windowSeconds),
      ...figures,
      apiServerWatches: api.openWatches,
      apiCostProfile: costProfile(figures, nodeWorkload(podsPerNode), windowSeconds),
      idle,
      apiServerCpuCores: round((serverCpu.user + serverCpu.system) / 1e6 / windowSeconds),
      apiServerCpuSecondsPerNodePerMinute: round((serverCpu.user + serverCpu.system) / 1e6 / n / minutes),
      eventsInWindow,
      ...(realNode
        ? { realNode, comparison: comparison(hollowByKind, figures.requestsPerNodePerMinute, realNode) }
        : { unattributedRequestsPerMinute: round(otherRequests.total / minutes) }),
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    // The hollow process is stopped (SIGTERM: it stops every node) whatever else fails here: a
    // throw before it left the process running, to be killed later without its clean-up.
    try {
      await real?.stop();
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await cgroup?.remove();
      counter.stop();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
    if (stdout) JSON.parse(stdout); // the binary's own report parses: it stopped cleanly
  }
}

await runBundled('hollow-node', sizes, measure);
