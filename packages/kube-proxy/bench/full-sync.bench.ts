// kube-proxy iptables-mode benchmarks: rule generation at 1k/10k/30k Services × 10 endpoints,
// the share of a sync spent in iptables-restore (inside a throwaway network namespace), network
// programming latency for one EndpointSlice change at 10k Services, and RSS.
// Run: npm run bench -w @nodeagent/kube-proxy  (root needed for the namespace parts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { Bench } from 'tinybench';
import {
  buildIptablesRuleset,
  buildNftablesRuleset,
  cidrLocalDetector,
  execIptables,
  execNftables,
  IptablesProxier,
  NftablesProxier,
  nftLocalDetector,
  renderRestorePayload,
  snapshotFromObjects,
} from '../src/index';

const SIZES = (process.env.KP_BENCH_SIZES ?? '1000,10000,30000').split(',').map(Number);
const LATENCY_SERVICES = Number(process.env.KP_BENCH_LATENCY_SERVICES ?? 10_000);
const LATENCY_CHANGES = Number(process.env.KP_BENCH_LATENCY_CHANGES ?? 100);
/** iptables-restore of huge payloads is slow on small machines; sizes above this skip the restore. */
const RESTORE_MAX = Number(process.env.KP_BENCH_RESTORE_MAX ?? 30_000);
/** Largest size applied with `nft -f` in the namespace. */
const NFT_MAX = Number(process.env.KP_BENCH_NFT_MAX ?? 30_000);
/** iptables mode's latency run (iptables-nft restores are slow; upstream sees the same). */
const IPT_LATENCY_SERVICES = Number(process.env.KP_BENCH_IPT_LATENCY_SERVICES ?? LATENCY_SERVICES);
const IPT_LATENCY_CHANGES = Number(process.env.KP_BENCH_IPT_LATENCY_CHANGES ?? LATENCY_CHANGES);
const ENDPOINTS = 10;
const out = join(import.meta.dirname, '..', '..', '..', 'bench-results');

function cluster(n: number): { services: V1Service[]; slices: V1EndpointSlice[] } {
  const services: V1Service[] = [];
  const slices: V1EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    const ip = dotted((10 << 24) + (96 << 16) + i);
    services.push({
      metadata: { name: `svc-${i}`, namespace: 'bench' },
      spec: { type: 'ClusterIP', clusterIP: ip, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    slices.push(sliceFor(i, 0));
  }
  return { services, slices };
}

/** Empties the namespace's nat and filter tables between measurements. */
function flushNamespace(prefix: readonly string[]): void {
  for (const table of ['nat', 'filter']) {
    execFileSync(prefix[0]!, [...prefix.slice(1), 'iptables', '-w', '-t', table, '-F']);
    execFileSync(prefix[0]!, [...prefix.slice(1), 'iptables', '-w', '-t', table, '-X']);
  }
}

function dotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Slice of service i; generation 1 shifts every backend address (each timed change moves a distinct service 0 → 1). */
function sliceFor(i: number, generation: number): V1EndpointSlice {
  const base = (10 << 24) + (128 << 16) + i * 16 + (generation % 2 ? 5 : 0);
  return {
    metadata: {
      name: `svc-${i}-x`,
      namespace: 'bench',
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({
      addresses: [dotted(base + e)],
      conditions: { ready: true },
      nodeName: `node-${e}`,
    })),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function haveRootAndTools(): boolean {
  try {
    return process.getuid?.() === 0 && execFileSync('iptables-restore', ['--version']).length > 0;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { node: process.version, endpointsPerService: ENDPOINTS };
  const detector = cidrLocalDetector('10.128.0.0/9');
  const nftDetector = nftLocalDetector({ cidr: '10.128.0.0/9', ipv6: false });

  // 1. Pure rule generation (snapshot → ruleset → payload text).
  const generation: Record<string, unknown>[] = [];
  const payloads = new Map<number, string>();
  const bench = new Bench({ iterations: 3, time: 0, warmupIterations: 1, warmupTime: 0 });
  for (const n of SIZES) {
    const { services, slices } = cluster(n);
    const snapshot = snapshotFromObjects({
      family: 'IPv4',
      nodeName: 'node-0',
      services,
      endpointSlices: slices,
    });
    payloads.set(
      n,
      renderRestorePayload(buildIptablesRuleset({ snapshot }, { localDetector: detector }).ruleset),
    );
    bench.add(`full build+render ${n}`, () => {
      renderRestorePayload(buildIptablesRuleset({ snapshot }, { localDetector: detector }).ruleset);
    });
    bench.add(`nftables full build+render ${n}`, () => {
      buildNftablesRuleset(snapshot, { localDetector: nftDetector });
    });
    bench.add(`partial build+render ${n} (1 changed)`, () => {
      renderRestorePayload(
        buildIptablesRuleset(
          { snapshot, onlyServices: new Set(['bench/svc-0']) },
          { localDetector: detector },
        ).ruleset,
      );
    });
  }
  await bench.run();
  const baseline = (bench.tasks[0]!.result as unknown as { latency: { mean: number } }).latency.mean;
  for (const t of bench.tasks) {
    const mean = (t.result as unknown as { latency: { mean: number } }).latency.mean;
    generation.push({
      task: t.name,
      meanMs: Number(mean.toFixed(2)),
      ratioToFull1k: Number((mean / baseline).toFixed(2)),
    });
  }
  results.generation = generation;
  results.payloadBytes = Object.fromEntries([...payloads].map(([n, p]) => [n, p.length]));

  // 2. iptables-restore share and programming latency, inside a namespace only.
  if (haveRootAndTools()) {
    const ns = `na-kpbench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const prefix = ['ip', 'netns', 'exec', ns];
      const restore: Record<string, unknown>[] = [];
      for (const [n, payload] of payloads) {
        if (n > RESTORE_MAX) continue;
        const { services, slices } = cluster(n);
        const t0 = performance.now();
        const snapshot = snapshotFromObjects({
          family: 'IPv4',
          nodeName: 'node-0',
          services,
          endpointSlices: slices,
        });
        const text = renderRestorePayload(
          buildIptablesRuleset({ snapshot }, { localDetector: detector }).ruleset,
        );
        const t1 = performance.now();
        // The proxier's apply path: execIptables → IptablesClient.restore (strategy auto).
        await execIptables({ family: 'IPv4', commandPrefix: prefix }).restore(text);
        const t2 = performance.now();
        flushNamespace(prefix);
        // Baseline in the same process: the payload piped to plain `iptables-restore --noflush`
        // (upstream's path, and this proxier's before it used IptablesClient).
        const b0 = performance.now();
        execFileSync(prefix[0]!, [...prefix.slice(1), 'iptables-restore', '-w', '--noflush', '--counters'], {
          input: text,
          maxBuffer: 1 << 30,
        });
        const b1 = performance.now();
        flushNamespace(prefix);
        void payload;
        restore.push({
          services: n,
          buildMs: Number((t1 - t0).toFixed(1)),
          restoreMs: Number((t2 - t1).toFixed(1)),
          restoreShare: Number(((t2 - t1) / (t2 - t0)).toFixed(3)),
          plainNoflushRestoreMs: Number((b1 - b0).toFixed(1)),
          ratioRestoreToPlainNoflush: Number(((t2 - t1) / (b1 - b0)).toFixed(3)),
        });
      }
      results.iptablesFullSyncInNamespace = restore;

      // Programming latency: one slice change at LATENCY_SERVICES services, partial sync through
      // the real proxier until iptables-restore returned (the kernel has the rule).
      // nftables mode: full apply time per size, then diff latency at LATENCY_SERVICES.
      const nftFull: Record<string, unknown>[] = [];
      for (const n of SIZES) {
        if (n > NFT_MAX) continue;
        const { services, slices } = cluster(n);
        const t0 = performance.now();
        const snapshot = snapshotFromObjects({
          family: 'IPv4',
          nodeName: 'node-0',
          services,
          endpointSlices: slices,
        });
        const script = buildNftablesRuleset(snapshot, { localDetector: nftDetector }).script;
        const t1 = performance.now();
        await execNftables(prefix).apply(script);
        const t2 = performance.now();
        nftFull.push({
          services: n,
          buildMs: Number((t1 - t0).toFixed(1)),
          nftMs: Number((t2 - t1).toFixed(1)),
          nftShare: Number(((t2 - t1) / (t2 - t0)).toFixed(3)),
          scriptBytes: script.length,
        });
      }
      results.nftablesFullSyncInNamespace = nftFull;
      {
        const { services, slices } = cluster(LATENCY_SERVICES);
        const nft = new NftablesProxier({
          family: 'IPv4',
          nodeName: 'node-0',
          executor: execNftables(prefix),
          backend: { localDetector: nftDetector },
          minSyncPeriodMs: 0,
          syncPeriodMs: 3_600_000,
        });
        for (const s of services) nft.onServiceAdd(s);
        for (const s of slices) nft.onEndpointSliceAdd(s);
        nft.onServicesSynced();
        nft.onEndpointSlicesSynced();
        const first = await nft.syncProxyRules();
        const lat: number[] = [];
        for (let k = 0; k < LATENCY_CHANGES; k++) {
          const i = (k * 7919) % LATENCY_SERVICES;
          const t0 = performance.now();
          nft.onEndpointSliceUpdate(sliceFor(i, 0), sliceFor(i, 1));
          const r = await nft.syncProxyRules();
          if (!r?.ok) throw new Error(`nft sync failed: ${String(r?.error)}`);
          lat.push(performance.now() - t0);
        }
        lat.sort((a, b) => a - b);
        results.nftablesProgrammingLatency = {
          services: LATENCY_SERVICES,
          changes: LATENCY_CHANGES,
          initialFullSyncMs: first?.durationMs,
          p50Ms: Number(percentile(lat, 50).toFixed(1)),
          p99Ms: Number(percentile(lat, 99).toFixed(1)),
          ratioP50ToInitialFullSync: first
            ? Number((percentile(lat, 50) / first.durationMs).toFixed(4))
            : null,
          lastDiffScriptBytes: nft.lastScript.length,
        };
        results.rssMiBAfterNftables = {
          services: LATENCY_SERVICES,
          rssMiB: Number((process.memoryUsage().rss / 2 ** 20).toFixed(1)),
        };
        await execNftables(prefix).deleteTable('ip', 'kube-proxy');
      }

      const { services, slices } = cluster(IPT_LATENCY_SERVICES);
      const proxier = new IptablesProxier({
        family: 'IPv4',
        nodeName: 'node-0',
        executor: execIptables({ family: 'IPv4', commandPrefix: prefix }),
        backend: { localDetector: detector },
        minSyncPeriodMs: 0,
        syncPeriodMs: 3_600_000,
      });
      for (const s of services) proxier.onServiceAdd(s);
      for (const s of slices) proxier.onEndpointSliceAdd(s);
      proxier.onServicesSynced();
      proxier.onEndpointSlicesSynced();
      const first = await proxier.syncProxyRules();
      const latencies: number[] = [];
      for (let k = 0; k < IPT_LATENCY_CHANGES; k++) {
        const i = (k * 7919) % IPT_LATENCY_SERVICES;
        const t0 = performance.now();
        proxier.onEndpointSliceUpdate(sliceFor(i, 0), sliceFor(i, 1));
        const r = await proxier.syncProxyRules();
        if (!r?.ok) throw new Error(`sync failed: ${String(r?.error)}`);
        latencies.push(performance.now() - t0);
      }
      latencies.sort((a, b) => a - b);
      const rss = process.memoryUsage().rss;
      results.iptablesProgrammingLatency = {
        services: IPT_LATENCY_SERVICES,
        changes: IPT_LATENCY_CHANGES,
        initialFullSyncMs: first?.durationMs,
        p50Ms: Number(percentile(latencies, 50).toFixed(1)),
        p99Ms: Number(percentile(latencies, 99).toFixed(1)),
        ratioP50ToInitialFullSync: first
          ? Number((percentile(latencies, 50) / first.durationMs).toFixed(3))
          : null,
      };
      results.rssMiBAfterIptables = {
        services: IPT_LATENCY_SERVICES,
        rssMiB: Number((rss / 2 ** 20).toFixed(1)),
      };
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  } else {
    results.fullSyncInNamespace = 'skipped: needs root and iptables-restore';
  }

  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'kube-proxy.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

await main();
