/**
 * Memory of the nodeagent-kube-proxy single executable as operators run it, read at the moments
 * issue #20 compares with upstream: with 11 Services in iptables mode 5/30/60 s after start; with
 * 1k (iptables, nftables) and 10k Services (nftables) right after the first full sync, 5 s and
 * 60 s after it (each Service: ClusterIP, one TCP port, one EndpointSlice with 10 ready
 * endpoints). Each run is in a throwaway network namespace, fed by the in-process API server of
 * @nodeagent/testing. Compared with baselines measured in the same run on the same node binary:
 * a bare `node -e` and a process that only imports @kubernetes/client-node. The daemon runs in a
 * memory cgroup of its own (its executable dropped from the page cache first): each reading
 * gives the cgroup's working set and anon first (what the node charges), then VmRSS split into
 * anonymous and file-backed pages, and the V8 heap.
 * Results: bench-results/kube-proxy-rss.json.
 *
 * Environment: NA_RSS_CASES (`<mode>:<services>,...`, default
 * "iptables:11,iptables:1000,nftables:1000,nftables:10000"), NA_RSS_BINARY (measure this
 * executable instead of building one), NA_RSS_NODE_OPTIONS (extra node/V8 flags for the daemon,
 * to try settings; V8 flags apply after the executable's own, but a flag other than the build's
 * makes V8 reject the bundle's code cache), NA_RSS_SEMI_SPACE_MB (build the executable with this
 * `--max-semi-space-size` instead of tools/sea/targets.mjs's; not with NA_RSS_BINARY),
 * NA_RSS_OUT (the result's file name under bench-results/ instead of kube-proxy-rss.json),
 * NA_RSS_HEAPSNAPSHOT=1 (also write each daemon's heap snapshot to bench-results/heap/).
 * Needs root (network namespaces). */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ApiServer,
  cgroupMemory,
  createNetns,
  kubeconfigYaml,
  type Netns,
  processMemory,
  startApiServer,
} from '@nodeagent/testing';
import { listenInNetns } from '@nodeagent/testing/netns';
import { addService, CLUSTER_CIDR, NODE_NAME, populateNode } from './scale-cluster';

const { cpuSeconds, measureBaselines, measureProcess, reporterEnv, sleep, summary, waitFor } = processMemory;
type ProcessMemory = processMemory.ProcessMemory;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const ENDPOINTS_PER_SERVICE = 10;
/** Issue #20's rows: a few Services (iptables), 1k in both modes, 10k in nftables mode. */
const DEFAULT_CASES = 'iptables:11,iptables:1000,nftables:1000,nftables:10000';

type SeaBuild = {
  buildSea(o: {
    outDir: string;
    names: string[];
    options?: { maxSemiSpaceSizeMb?: number };
  }): Promise<{ path: string; node: string }[]>;
};
type NodeRuntime = { ensureNode24(): { node: string } };

/** How many Services the programmed rules cover, read back from the kernel. */
async function programmedServices(ns: Netns, mode: string): Promise<number> {
  if (mode === 'nftables') {
    // One element per Service port: `<ip> . tcp . <port> comment "ns/svc:port" : goto <chain>`.
    const r = await ns.exec('nft', ['list', 'map', 'ip', 'kube-proxy', 'service-ips'], {
      allowFailure: true,
    });
    return (r.stdout.match(/ : (?:goto|jump) /g) ?? []).length;
  }
  const r = await ns.exec('iptables-save', ['-t', 'nat'], { allowFailure: true });
  return (r.stdout.match(/^-A KUBE-SERVICES .* -j KUBE-SVC-/gm) ?? []).length;
}

/** When a reading is taken: seconds after the daemon started, or after its first sync was in the kernel. */
interface Moment {
  after: 'start' | 'sync';
  seconds: number;
}

/**
 * The moments issue #20 compares with upstream: with a few Services (synced within a second or
 * two) 5/30/60 s after start; with many, right after the first sync (what an operator sees
 * during a resync) and once V8's idle-time memory reducer had its chance.
 */
function moments(services: number): Moment[] {
  if (services < 100) return [5, 30, 60].map((seconds) => ({ after: 'start', seconds }));
  return [0, 5, 60].map((seconds) => ({ after: 'sync', seconds }));
}

interface Reading extends Moment {
  /** Seconds after start/sync the reading really was taken (later than asked on a busy machine). */
  tookSeconds: number;
  memory: ProcessMemory;
}

interface RunResult {
  /** 1-minute load average when the daemon started. */
  loadAverage: number;
  readings: Reading[];
  syncSeconds: number;
  syncCpuSeconds: number;
}

async function runDaemon(
  binary: string,
  mode: string,
  services: number,
  api: ApiServer,
  dir: string,
): Promise<RunResult> {
  const ns = await createNetns({ purpose: 'kprss' });
  let daemon: ChildProcess | undefined;
  let stderr = '';
  // The API server answers on 127.0.0.1:6443 inside the namespace itself (no forwarder).
  const listener = await listenInNetns(ns, 6443);
  api.serve(listener);
  // Its own memory cgroup: the readings carry the working set and anon the node charges.
  const cgroup = cgroupMemory.tryCreate('kube-proxy');
  // Its executable's pages then count in its cgroup, as on a node that just booted.
  if (cgroup) cgroupMemory.dropFromPageCache(binary);
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml('http://127.0.0.1:6443'));
    const env = reporterEnv(dir, `kube-proxy-${mode}-${services}`, join(repoRoot, 'bench-results', 'heap'));
    const loadAverage = Math.round((loadavg()[0] ?? 0) * 10) / 10;
    const started = performance.now();
    const direct = {
      command: binary,
      args: [
        '--kubeconfig',
        kubeconfig,
        '--hostname-override',
        NODE_NAME,
        '--proxy-mode',
        mode,
        '--cluster-cidr',
        CLUSTER_CIDR,
        '--healthz-bind-address',
        '127.0.0.1:10256',
        '--metrics-bind-address',
        '127.0.0.1:10249',
      ],
    };
    const { command, args } = cgroup ? cgroup.wrap(direct.command, direct.args) : direct;
    daemon = ns.spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    daemon.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
    // The first full sync is done when the kernel holds a rule for every Service.
    const exited = new Promise<never>((_, reject) =>
      daemon?.once('exit', (code, signal) =>
        reject(new Error(`kube-proxy exited (${code ?? signal}) before its first sync:\n${stderr}`)),
      ),
    );
    await Promise.race([
      exited,
      waitFor(
        async () => ((await programmedServices(ns, mode)) >= services ? true : undefined),
        600_000,
        `${mode} rules for ${services} Services`,
      ),
    ]);
    exited.catch(() => {}); // it exits when the namespace is deleted below
    const syncSeconds = (performance.now() - started) / 1000;
    // CPU the daemon itself spent up to here: comparable between runs on a busy machine, unlike wall time.
    const syncCpuSeconds = await cpuSeconds(daemon.pid as number);
    const syncedAt = performance.now();
    const readings: Reading[] = [];
    const plan = moments(services);
    for (const [i, m] of plan.entries()) {
      const t0 = m.after === 'start' ? started : syncedAt;
      await sleep(Math.max(0, t0 + m.seconds * 1000 - performance.now()));
      const tookSeconds = Math.round((performance.now() - t0) / 100) / 10;
      const memory = await measureProcess(daemon.pid as number, env, { last: i === plan.length - 1 });
      readings.push({ ...m, tookSeconds, memory });
    }
    if (process.env.NA_RSS_HOLD_MS) {
      process.stderr.write(`holding pid ${daemon.pid}\n`);
      await sleep(Number(process.env.NA_RSS_HOLD_MS));
    }
    return { loadAverage, readings, syncSeconds, syncCpuSeconds };
  } finally {
    listener.close();
    await ns.delete();
    await cgroup?.remove();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root: runs kube-proxy in network namespaces');
  const cases = (process.env.NA_RSS_CASES ?? DEFAULT_CASES)
    .split(',')
    .map((c) => {
      const [mode, count] = c.split(':');
      const services = Number(count);
      if (!mode || !Number.isInteger(services) || services < 1)
        throw new Error(`NA_RSS_CASES: "${c}" is not <mode>:<services>`);
      return { mode, services };
    })
    .sort((x, y) => x.services - y.services); // Services are only ever added
  const dir = mkdtempSync(join(tmpdir(), `na-kp-rss-${process.pid}-`));
  const { ensureNode24 } = (await import(join(repoRoot, 'tools/sea/node-runtime.mjs'))) as NodeRuntime;
  let api: ApiServer | undefined;
  try {
    let binary = process.env.NA_RSS_BINARY;
    const semiSpace = process.env.NA_RSS_SEMI_SPACE_MB;
    if (!binary) {
      const { buildSea } = (await import(join(repoRoot, 'tools/sea/build.mjs'))) as SeaBuild;
      const built = await buildSea({
        outDir: join(dir, 'bin'),
        names: ['nodeagent-kube-proxy'],
        ...(semiSpace ? { options: { maxSemiSpaceSizeMb: Number(semiSpace) } } : {}),
      });
      binary = built[0]?.path as string;
    }
    const baselines = await measureBaselines(ensureNode24().node, repoRoot, dir);

    api = await startApiServer();
    populateNode(api);

    const runs: Record<string, unknown>[] = [];
    let created = 0;
    for (const { mode, services } of cases) {
      for (; created < services; created++) {
        addService(api, created, ENDPOINTS_PER_SERVICE);
      }
      const result = await runDaemon(binary, mode, services, api, dir);
      const { loadAverage, readings, syncSeconds, syncCpuSeconds } = result;
      for (const { memory, ...moment } of readings) {
        const run = {
          mode,
          services,
          loadAverage,
          endpointsPerService: ENDPOINTS_PER_SERVICE,
          firstSyncSeconds: Math.round(syncSeconds * 10) / 10,
          firstSyncCpuSeconds: syncCpuSeconds,
          ...moment,
          ...summary(memory),
          rssRatioToBareNode: Math.round((memory.rssBytes / baselines.bareNode!.rssBytes) * 100) / 100,
          rssRatioToClientNodeImport:
            Math.round((memory.rssBytes / baselines.clientNodeImport!.rssBytes) * 100) / 100,
        };
        process.stderr.write(`${JSON.stringify(run)}\n`);
        runs.push(run);
      }
    }
    const out = {
      generatedAt: new Date().toISOString(),
      binary: process.env.NA_RSS_BINARY ?? 'nodeagent-kube-proxy single executable, built by this run',
      ...(semiSpace && !process.env.NA_RSS_BINARY ? { maxSemiSpaceSizeMb: Number(semiSpace) } : {}),
      baselines: Object.fromEntries(Object.entries(baselines).map(([k, v]) => [k, summary(v)])),
      runs,
    };
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    writeFileSync(
      join(repoRoot, 'bench-results', process.env.NA_RSS_OUT ?? 'kube-proxy-rss.json'),
      `${JSON.stringify(out, null, 2)}\n`,
    );
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
