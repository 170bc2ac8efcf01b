/**
 * What N hollow nodes cost, in one nodeagent-hollow-node process (the bundled entry) against the
 * in-process API server of @nodeagent/testing over HTTP, for N = 10 and 100 (NA_HOLLOW_NODES,
 * comma-separated). Each run: start, every Node Ready, NA_HOLLOW_PODS pods per node (default 10)
 * created bound to their nodes and all Running, then a steady window of NA_HOLLOW_WINDOW_S
 * seconds (default 60) in which the hollow process's CPU (/proc/<pid>/stat) and the requests the
 * API server receives from each node (counted where they arrive, by the node's user agent, by
 * verb and resource as apiserver_request_total would) are measured, with the bytes on each node's
 * connections (counted on the server's sockets) and the API server's CPU (this bench process's:
 * the server runs here, with the counting beside it); RSS at the window's end.
 * Results: bench-results/hollow-node.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiServer, processMemory, startApiServer } from '@nodeagent/testing';
import { bundleEntry } from '../../../tools/bundle/bundle-entry';
import { RequestCounter } from '../src/request-counter';

const { cpuSeconds, mib, sleep, statusField, waitFor } = processMemory;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const appDir = join(repoRoot, 'apps', 'hollow-node');
const sizes = (process.env.NA_HOLLOW_NODES ?? '10,100').split(',').map(Number);
const podsPerNode = Number(process.env.NA_HOLLOW_PODS ?? 10);
const windowSeconds = Number(process.env.NA_HOLLOW_WINDOW_S ?? 60);

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

function createPods(api: ApiServer, nodes: string[]): void {
  for (const node of nodes)
    for (let i = 0; i < podsPerNode; i++)
      api.registry.create(api.resource('v1', 'pods'), 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${node}-pod-${i}`, namespace: 'default' },
        spec: { nodeName: node, containers: [{ name: 'app', image: 'nginx:1.27' }] },
      });
}

async function rssBytes(pid: number): Promise<number> {
  return statusField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
}

/** One run of `n` nodes: start-up time, then the steady window's figures. */
async function measure(cli: string, n: number) {
  const api = await startApiServer();
  const dir = mkdtempSync(join(tmpdir(), `na-hollow-bench-${process.pid}-`));
  const kubeconfig = join(dir, 'kubeconfig');
  api.writeKubeconfig(kubeconfig);
  const names = Array.from({ length: n }, (_, i) => `hollow-node-${i}`);
  const counter = new RequestCounter(names, 'server');
  counter.start();
  const started = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, '--kubeconfig', kubeconfig, '--nodes', String(n)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let stdout = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c));
  try {
    await waitFor(async () => readyNodes(api) === n || undefined, 600_000, 'every node Ready');
    const readySeconds = (Date.now() - started) / 1000;
    createPods(api, names);
    await waitFor(
      async () => runningPods(api) === n * podsPerNode || undefined,
      900_000,
      'every pod Running',
    );
    const podsSeconds = (Date.now() - started) / 1000 - readySeconds;
    const pid = child.pid ?? 0;
    counter.resetCounts();
    const cpuBefore = await cpuSeconds(pid);
    const serverCpuBefore = process.cpuUsage();
    await sleep(windowSeconds * 1000);
    const cpu = (await cpuSeconds(pid)) - cpuBefore;
    const serverCpu = process.cpuUsage(serverCpuBefore);
    const rss = await rssBytes(pid);
    const minutes = windowSeconds / 60;
    const byKind = new Map<string, number>();
    let total = 0;
    let openWatches = 0;
    const bytes = { sent: 0, received: 0 };
    for (const c of counter.perNode.values()) {
      total += c.total;
      openWatches += c.openWatches;
      // The server's sockets: what it received is what the node sent.
      const carried = c.bytes.totals();
      bytes.sent += carried.received;
      bytes.received += carried.sent;
      for (const [k, v] of c.byKind) byKind.set(k, (byKind.get(k) ?? 0) + v);
    }
    const round = (v: number) => Number(v.toFixed(3));
    const result = {
      nodes: n,
      podsPerNode,
      windowSeconds,
      secondsToAllReady: round(readySeconds),
      secondsToAllPodsRunning: round(podsSeconds),
      rssMiB: mib(rss),
      rssMiBPerNode: round(rss / n / 1048576),
      cpuSecondsPerNodePerMinute: round(cpu / n / minutes),
      cpuCoresUsed: round(cpu / windowSeconds),
      requestsPerNodePerMinute: round(total / n / minutes),
      requestsPerNodePerMinuteByKind: Object.fromEntries(
        [...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, round(v / n / minutes)]),
      ),
      watchesPerNode: round(openWatches / n),
      apiServerWatches: api.openWatches,
      bytesSentPerNodePerMinute: Math.round(bytes.sent / n / minutes),
      bytesReceivedPerNodePerMinute: Math.round(bytes.received / n / minutes),
      apiServerCpuCores: round((serverCpu.user + serverCpu.system) / 1e6 / windowSeconds),
      apiServerCpuSecondsPerNodePerMinute: round((serverCpu.user + serverCpu.system) / 1e6 / n / minutes),
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    counter.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
    if (stdout) JSON.parse(stdout); // the binary's own report parses: it stopped cleanly
  }
}

async function main(): Promise<void> {
  const { version } = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { version: string };
  const bundle = bundleEntry(join(appDir, 'src', 'cli.ts'), {
    __NODEAGENT_VERSION__: JSON.stringify(version),
  });
  try {
    const runs = [];
    for (const n of sizes) runs.push(await measure(bundle.file, n));
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    writeFileSync(
      join(repoRoot, 'bench-results', 'hollow-node.json'),
      `${JSON.stringify({ date: new Date().toISOString(), runs }, null, 2)}\n`,
    );
  } finally {
    bundle.dispose();
  }
}

await main();
