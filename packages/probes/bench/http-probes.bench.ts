// Benchmark: 1,000 containers with an HTTP readiness probe at periodSeconds 1 against a loopback
// server (in a child process, so CPU numbers are the prober's alone). Reports CPU per probe and
// scheduling jitter p99, plus ratios against a baseline run in this same process: bare
// http.get on setInterval without the probe machinery.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { normalizeProbe, ProbeManager, runHttpProbe, runProbe } from '../src/index';

const CONTAINERS = 1_000;
const PERIOD_MS = 1_000;
const RUN_MS = Number(process.env.PROBE_BENCH_SECONDS ?? 10) * 1_000;

/**
 * Every probe is a new connection (keep-alives off, as upstream), so ~40,000 connections within
 * a minute would run the loopback ephemeral port range out of TIME_WAIT slots for one server
 * port. Spreading them over several listening ports gives each its own port space.
 */
const SERVER_PORTS = 16;

const SERVER = `
const http = require('node:http');
const ports = [];
for (let i = 0; i < ${SERVER_PORTS}; i++) {
  const s = http.createServer((req, res) => res.end('ok'));
  s.listen(0, '127.0.0.1', () => {
    ports.push(s.address().port);
    if (ports.length === ${SERVER_PORTS}) process.stdout.write(ports.join(',') + '\\n');
  });
}
`;

async function startServer(): Promise<{ ports: number[]; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim().split(',').map(Number)));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { ports, child };
}

function latencyOf(samples: number[]): PhaseResult['latencyMs'] {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface PhaseResult {
  probes: number;
  failures: number;
  cpuMicrosPerProbe: number;
  jitterMs: { p50: number; p99: number; max: number };
  /** Request latency: a probe slower than the period makes the worker skip ticks (as upstream). */
  latencyMs: { p50: number; p99: number };
  /** 1-minute load average when the phase ended: the cores are shared, so read numbers with it. */
  loadAvg1m: number;
}

/** Steady state only: the first two periods include setting up 1,000 containers. */
const WARMUP_MS = 2 * PERIOD_MS;

/** Jitter = |interval between successive runs of one container − period|, after warm-up. */
function jitterOf(starts: Map<number, number[]>, phaseStart: number): PhaseResult['jitterMs'] {
  const dev: number[] = [];
  for (const list of starts.values()) {
    for (let i = 1; i < list.length; i++) {
      if (list[i - 1]! < phaseStart + WARMUP_MS) continue;
      dev.push(Math.abs(list[i]! - list[i - 1]! - PERIOD_MS));
    }
  }
  dev.sort((a, b) => a - b);
  return { p50: percentile(dev, 50), p99: percentile(dev, 99), max: dev.at(-1) ?? Number.NaN };
}

async function proberPhase(ports: number[]): Promise<PhaseResult> {
  const starts = new Map<number, number[]>();
  let probes = 0;
  let failures = 0;
  const latencies: number[] = [];
  const manager = new ProbeManager({
    maxConcurrentProbes: CONTAINERS,
    onRun: (e) => {
      probes++;
      latencies.push(e.durationMs);
      if (e.outcome.result !== 'Success') failures++;
      const id = Number(e.podUID.slice(4));
      const list = starts.get(id) ?? [];
      list.push(e.tickAt);
      starts.set(id, list);
    },
  });
  const phaseStart = Date.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < CONTAINERS; i++) {
    manager.addContainer(
      `pod-${i}`,
      '127.0.0.1',
      {
        name: 'app',
        readinessProbe: { httpGet: { port: ports[i % ports.length]!, path: '/healthz' }, periodSeconds: 1 },
      },
      () => ({ containerId: `c${i}`, running: true, startedAt: 0 }),
    );
  }
  await new Promise((r) => setTimeout(r, RUN_MS));
  await manager.close();
  const cpu = process.cpuUsage(cpu0);
  return {
    probes,
    failures,
    cpuMicrosPerProbe: (cpu.user + cpu.system) / Math.max(1, probes),
    jitterMs: jitterOf(starts, phaseStart),
    latencyMs: latencyOf(latencies),
    loadAvg1m: loadavg()[0]!,
  };
}

async function baselinePhase(ports: number[]): Promise<PhaseResult> {
  const starts = new Map<number, number[]>();
  let probes = 0;
  let failures = 0;
  const timers: NodeJS.Timeout[] = [];
  const latencies: number[] = [];
  const phaseStart = Date.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < CONTAINERS; i++) {
    const fire = () => {
      const list = starts.get(i) ?? [];
      list.push(Date.now());
      starts.set(i, list);
      const sent = Date.now();
      get({ host: '127.0.0.1', port: ports[i % ports.length], path: '/healthz', agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          probes++;
          latencies.push(Date.now() - sent);
          if (res.statusCode !== 200) failures++;
        });
      }).on('error', () => {
        probes++;
        failures++;
      });
    };
    timers.push(
      setTimeout(() => {
        fire();
        timers.push(setInterval(fire, PERIOD_MS));
      }, Math.random() * PERIOD_MS),
    );
  }
  await new Promise((r) => setTimeout(r, RUN_MS));
  for (const t of timers) clearTimeout(t);
  await new Promise((r) => setTimeout(r, 200));
  const cpu = process.cpuUsage(cpu0);
  return {
    probes,
    failures,
    cpuMicrosPerProbe: (cpu.user + cpu.system) / Math.max(1, probes),
    jitterMs: jitterOf(starts, phaseStart),
    latencyMs: latencyOf(latencies),
    loadAvg1m: loadavg()[0]!,
  };
}

async function singleProbeMicro(ports: number[]) {
  const port = ports[0]!;
  const probe = normalizeProbe({ httpGet: { port, path: '/healthz' } }, 'Readiness');
  const bench = new Bench({ time: 2_000, warmupTime: 200 });
  bench
    .add(
      'baseline: http.get',
      () =>
        new Promise<void>((resolve, reject) => {
          get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
            res.resume();
            res.on('end', resolve);
          }).on('error', reject);
        }),
    )
    .add('runHttpProbe', async () => {
      await runHttpProbe({
        scheme: 'http',
        host: '127.0.0.1',
        port,
        path: '/healthz',
        headers: [],
        timeoutMs: 1000,
      });
    })
    .add('runProbe (normalized spec)', async () => {
      await runProbe(probe, { podIP: '127.0.0.1' });
    });
  await bench.run();
  const mean = (name: string) => {
    const r = bench.tasks.find((t) => t.name === name)?.result as { latency?: { mean: number; p99: number } };
    return r?.latency ?? { mean: Number.NaN, p99: Number.NaN };
  };
  const base = mean('baseline: http.get');
  return Object.fromEntries(
    bench.tasks.map((t) => {
      const l = mean(t.name);
      return [t.name, { meanMs: l.mean, p99Ms: l.p99, ratioToBaseline: l.mean / base.mean }];
    }),
  );
}

function averagePhases(runs: PhaseResult[]): PhaseResult {
  const avg = (f: (r: PhaseResult) => number) => runs.reduce((sum, r) => sum + f(r), 0) / runs.length;
  return {
    probes: avg((r) => r.probes),
    failures: avg((r) => r.failures),
    cpuMicrosPerProbe: avg((r) => r.cpuMicrosPerProbe),
    jitterMs: {
      p50: avg((r) => r.jitterMs.p50),
      p99: avg((r) => r.jitterMs.p99),
      max: avg((r) => r.jitterMs.max),
    },
    latencyMs: { p50: avg((r) => r.latencyMs.p50), p99: avg((r) => r.latencyMs.p99) },
    loadAvg1m: avg((r) => r.loadAvg1m),
  };
}

async function main() {
  const { ports, child } = await startServer();
  try {
    const single = await singleProbeMicro(ports);
    // ABBA order, so drifting load from other work on the shared cores hits both sides alike.
    const baselineRuns = [await baselinePhase(ports)];
    const proberRuns = [await proberPhase(ports), await proberPhase(ports)];
    baselineRuns.push(await baselinePhase(ports));
    const prober = averagePhases(proberRuns);
    const baseline = averagePhases(baselineRuns);
    const results = {
      package: '@nodeagent/probes',
      date: new Date().toISOString(),
      node: process.version,
      setup: {
        containers: CONTAINERS,
        periodMs: PERIOD_MS,
        runMs: RUN_MS,
        server: `loopback, child process, ${SERVER_PORTS} listening ports`,
        order: 'baseline, prober, prober, baseline; figures are the mean of the two runs',
      },
      concurrent: {
        prober,
        baseline,
        ratios: {
          cpuPerProbe: prober.cpuMicrosPerProbe / baseline.cpuMicrosPerProbe,
          jitterP99: prober.jitterMs.p99 / Math.max(baseline.jitterMs.p99, 0.001),
        },
        runs: { prober: proberRuns, baseline: baselineRuns },
      },
      singleProbe: single,
    };
    const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
    mkdirSync(join(root, 'bench-results'), { recursive: true });
    writeFileSync(join(root, 'bench-results/probes.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(JSON.stringify(results, null, 2));
  } finally {
    child.kill();
  }
}

await main();
