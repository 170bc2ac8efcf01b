/**
 * Log-rotation benchmark for @nodeagent/kubelet, results in bench-results/kubelet-log-rotation.json
 * (issue #36): one pod writing 1 KB lines as fast as a real containerd takes them (tools/containerd,
 * busybox `yes`), for NODEAGENT_LOG_BENCH_SECONDS (default 30 s per round), with containerLogMaxSize 10Mi
 * and containerLogMaxFiles 5 (a 50 MiB limit per container) and the default 10 s monitor interval.
 * Reported: the write rate; the log directory's size sampled every 50 ms (largest, median, last)
 * as ratios to the limit (the goal: never above 1.5x); rotations; the CPU seconds of this process
 * (the kubelet runs in it: pod sync, log manager, its HTTP server; the sampler's own cost is
 * included); and the latency of `--tail 1` (GET /containerLogs?tailLines=1) asked every second.
 * The write rate is the sum of the largest size seen of every log file (by inode and birth time),
 * so it slightly undercounts; containerd's own count of the bytes it wrote is reported beside it. Baseline in the same run: the same pod and manager rotated by upstream's
 * algorithm alone (one pass every monitor interval, no growth watch), with ratios ours/baseline.
 * Needs root; skipped with a note otherwise. Run once: it is not a loop benchmark.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCriClient } from '@nodeagent/cri-client';
import type { Pod } from '../src/entries/api';
import { ContainerLogManager, logRotatePolicy, reportingContainerStarts } from '../src/entries/logs';
import { alwaysAllow, createKubeletServer, kubeletAuthenticator, listen } from '../src/entries/server';
import { criPodRuntime, Kubelet, parseKubeletConfiguration } from '../src/index';
import { benchNode, benchNodeName, startContainerd } from './bench-node';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const seconds = Number(process.env.NODEAGENT_LOG_BENCH_SECONDS ?? 30);
const MiB = 1024 * 1024;
const maxSize = 10 * MiB;
const maxFiles = 5;
const limit = maxSize * maxFiles;
const results: Record<string, unknown> = { generatedAt: new Date().toISOString(), node: process.version };

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Linux's USER_HZ, the unit of /proc's CPU times (100 on every architecture Node runs on). */
const clockTicksPerSecond = 100;

/**
 * containerd's own figures, to check the sampler's byte count and see where CPU goes: the bytes
 * it wrote (/proc/<pid>/io wchar: every write(2), the container's log lines nearly all of it)
 * and its CPU seconds (utime + stime in /proc/<pid>/stat).
 */
async function processCounters(pid: number): Promise<{ writtenBytes: number; cpuSeconds: number }> {
  const io = await readFile(`/proc/${pid}/io`, 'utf8');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th of them.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    writtenBytes: Number(/^wchar: (\d+)$/m.exec(io)?.[1] ?? 0),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond,
  };
}

/** The whole machine's CPU time by kind (/proc/stat's first line), in ticks. */
async function machineCpu(): Promise<Record<'user' | 'system' | 'idle' | 'iowait' | 'other', number>> {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = (await readFile('/proc/stat', 'utf8'))
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number) as number[];
  return {
    user: user! + nice!,
    system: system!,
    idle: idle!,
    iowait: iowait!,
    other: irq! + softirq! + steal!,
  };
}

/** Each kind's share of the machine's CPU time between two machineCpu() readings. */
function cpuShares(
  from: Awaited<ReturnType<typeof machineCpu>>,
  to: Awaited<ReturnType<typeof machineCpu>>,
): Record<string, number> {
  const kinds = Object.keys(from) as (keyof typeof from)[];
  const total = kinds.reduce((sum, kind) => sum + to[kind] - from[kind], 0);
  return Object.fromEntries(
    kinds.map((kind) => [kind, Number(((to[kind] - from[kind]) / total).toFixed(2))]),
  );
}

async function run(): Promise<void> {
  if (process.getuid?.() !== 0) {
    results.logRotation = { skipped: 'needs root for tools/containerd' };
    return;
  }
  const containerd = await startContainerd();
  const dir = await mkdtemp(join(tmpdir(), `na-log-bench-${process.pid}-`));
  const podLogsDir = join(dir, 'logs');
  const client = await createCriClient({ endpoint: containerd.endpoint });
  // Ours hears of each container the kubelet starts (ContainerLogManager.containerStarted), so
  // its log is watched from the start; upstream's manager has no such hook.
  let containerStarted: ((containerId: string) => Promise<void>) | undefined;
  const startingClient = reportingContainerStarts(client, (id) => void containerStarted?.(id));
  const kubelet = new Kubelet({
    node: benchNode(join(dir, 'root')),
    runtime: criPodRuntime(startingClient),
    config: parseKubeletConfiguration({ podLogsDir, volumePluginDir: join(dir, 'volume-plugins') }).config,
  });
  const server = await listen(
    createKubeletServer({
      kubelet,
      nodeName: benchNodeName,
      podLogsDir,
      authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
      authorize: alwaysAllow,
    }),
    0,
    '127.0.0.1',
  );
  /**
   * One round: a fresh pod writing flat out, rotated either by our manager as the kubelet runs
   * it (`size-triggered`) or by upstream's algorithm alone — one pass every monitor interval, the
   * same manager never started, so no growth watches (`upstream-pass`, the baseline).
   */
  const scenario = async (mode: 'size-triggered' | 'upstream-pass') => {
    let rotations = 0;
    const reopenMs: number[] = [];
    const errors: string[] = [];
    const logs = new ContainerLogManager({
      runtime: {
        listContainers: (request: object) => client.listContainers(request),
        containerStatus: (request: { containerId: string; verbose: boolean }) =>
          client.containerStatus(request),
        reopenContainerLog: async (request: { containerId: string }) => {
          const t = performance.now();
          const answer = await client.reopenContainerLog(request);
          reopenMs.push(performance.now() - t);
          rotations++;
          return answer;
        },
      },
      policy: logRotatePolicy('10Mi', maxFiles),
      maxWorkers: 1,
      monitorIntervalMs: 10_000,
      logger: {
        info: () => undefined,
        warn: () => undefined,
        error: (_obj, msg) => errors.push(String(msg)),
      },
    });
    const uid = `chatty-${mode}-${process.pid}`;
    const pod: Pod = {
      metadata: { name: `chatty-${mode}`, namespace: 'default', uid },
      spec: {
        containers: [
          {
            name: 'yes',
            image: containerd.images.busybox.name,
            // 1000 characters and a newline per line, as fast as containerd takes them.
            command: ['sh', '-c', `yes "$(printf '%01000d' 0)"`],
          },
        ],
        terminationGracePeriodSeconds: 1,
      },
    };
    const logDir = join(podLogsDir, `default_chatty-${mode}_${uid}`, 'yes');
    let passes: NodeJS.Timeout | undefined;
    try {
      containerStarted = mode === 'size-triggered' ? (id) => logs.containerStarted(id) : undefined;
      if (mode === 'size-triggered') logs.start();
      else passes = setInterval(() => void logs.rotateLogs(), 10_000);
      kubelet.addPod(pod);
      // Running once the first bytes are logged.
      for (let i = 0; i < 600; i++) {
        if ((await stat(join(logDir, '0.log')).catch(() => undefined))?.size) break;
        await sleep(50);
      }
      const cpuStart = process.cpuUsage();
      const containerdStart = await processCounters(containerd.pid);
      const machineStart = await machineCpu();
      const loadStart = loadavg()[0]!;
      const startedAt = performance.now();
      const sizes: number[] = [];
      const seen = new Map<string, number>();
      const tailMs: number[] = [];
      let largestListing: string[] = [];
      let failedTail = '';
      let tailFailures = 0;
      let nextTail = startedAt;
      while (performance.now() - startedAt < seconds * 1000) {
        let total = 0;
        const listing: string[] = [];
        for (const name of await readdir(logDir).catch(() => [] as string[])) {
          const info = await stat(join(logDir, name)).catch(() => undefined);
          if (!info) continue;
          total += info.size;
          listing.push(`${name} ${(info.size / MiB).toFixed(1)}`);
          // By inode and birth time: ext4 hands a removed file's inode number to the next new
          // file at once, and keyed by inode alone two files counted as one (ours undercounted).
          const file = `${info.ino}@${info.birthtimeMs}`;
          if (!name.endsWith('.gz') && !name.endsWith('.tmp'))
            seen.set(file, Math.max(seen.get(file) ?? 0, info.size));
        }
        if (total > Math.max(0, ...sizes)) largestListing = listing;
        sizes.push(total);
        if (performance.now() >= nextTail) {
          nextTail += 1000;
          const t = performance.now();
          const response = await fetch(
            `http://127.0.0.1:${server.port}/containerLogs/default/chatty-${mode}/yes?tailLines=1`,
          );
          const body = await response.text();
          if (response.status === 200 && /^0+\n?$/.test(body)) tailMs.push(performance.now() - t);
          else {
            tailFailures++;
            failedTail = `${response.status} ${JSON.stringify(body.slice(0, 80))} (${body.length} chars)`;
          }
        }
        await sleep(50);
      }
      const elapsed = (performance.now() - startedAt) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      const containerdEnd = await processCounters(containerd.pid);
      const machine = cpuShares(machineStart, await machineCpu());
      const written = [...seen.values()].reduce((a, b) => a + b, 0);
      const t = performance.now();
      const last = await fetch(
        `http://127.0.0.1:${server.port}/containerLogs/default/chatty-${mode}/yes?tailLines=1`,
      );
      const lastOk = last.status === 200 && /^0+\n?$/.test(await last.text());
      const finalTailMs = performance.now() - t;
      return {
        mode,
        seconds: Number(elapsed.toFixed(1)),
        containerLogMaxSize: '10Mi',
        containerLogMaxFiles: maxFiles,
        limitMiB: limit / MiB,
        writeMiBPerSecond: Number((written / MiB / elapsed).toFixed(1)),
        // containerd's own count: every byte it wrote (its log lines nearly all of them).
        containerdWriteMiBPerSecond: Number(
          ((containerdEnd.writtenBytes - containerdStart.writtenBytes) / MiB / elapsed).toFixed(1),
        ),
        containerdCpuSeconds: Number((containerdEnd.cpuSeconds - containerdStart.cpuSeconds).toFixed(1)),
        machineCpuShares: machine,
        loadAverage1m: { start: Number(loadStart.toFixed(1)), end: Number(loadavg()[0]!.toFixed(1)) },
        // Every rotated file held at least maxSize: a floor where files live too briefly to sample.
        writeMiBPerSecondFromRotations: Number(((rotations * maxSize) / MiB / elapsed).toFixed(1)),
        rotations,
        rotationsPerSecond: Number((rotations / elapsed).toFixed(1)),
        reopenContainerLogMs: {
          p50: Math.round(percentile(reopenMs, 50)),
          max: Math.round(Math.max(0, ...reopenMs)),
        },
        logDirMiB: {
          largest: Number((Math.max(...sizes) / MiB).toFixed(1)),
          median: Number((percentile(sizes, 50) / MiB).toFixed(1)),
          last: Number(((sizes.at(-1) ?? 0) / MiB).toFixed(1)),
        },
        logDirToLimit: {
          largest: Number((Math.max(...sizes) / limit).toFixed(2)),
          median: Number((percentile(sizes, 50) / limit).toFixed(2)),
        },
        samples: sizes.length,
        processCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
        tail1Ms: {
          p50: Math.round(percentile(tailMs, 50)),
          max: Math.round(Math.max(0, ...tailMs)),
          answered: tailMs.length,
          failed: tailFailures,
          atEnd: lastOk ? Math.round(finalTailMs) : 'failed',
        },
        errorsLogged: errors.length,
        largestLogDir: largestListing,
        ...(failedTail ? { lastFailedTail: failedTail } : {}),
      };
    } finally {
      clearInterval(passes);
      kubelet.removePod(pod);
      await kubelet.settle().catch(() => undefined);
      await logs.stop();
    }
  };

  try {
    await kubelet.start();
    // NODEAGENT_LOG_BENCH_BASELINE=0 runs ours alone (for quick looks; the report wants both).
    const ours = await scenario('size-triggered');
    if (process.env.NODEAGENT_LOG_BENCH_BASELINE === '0') {
      results.logRotation = { sizeTriggered: ours };
      return;
    }
    const baseline = await scenario('upstream-pass');
    const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toFixed(2)) : null);
    results.logRotation = {
      sizeTriggered: ours,
      upstreamPassBaseline: baseline,
      oursToBaseline: {
        largestLogDir: ratio(ours.logDirMiB.largest, baseline.logDirMiB.largest),
        medianLogDir: ratio(ours.logDirMiB.median, baseline.logDirMiB.median),
        cpuSeconds: ratio(ours.processCpuSeconds, baseline.processCpuSeconds),
        writeRate: ratio(ours.writeMiBPerSecond, baseline.writeMiBPerSecond),
        containerdWriteRate: ratio(ours.containerdWriteMiBPerSecond, baseline.containerdWriteMiBPerSecond),
      },
    };
  } finally {
    await kubelet.stop();
    await server.close();
    client.close();
    await containerd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await run();
mkdirSync(`${root}bench-results`, { recursive: true });
writeFileSync(`${root}bench-results/kubelet-log-rotation.json`, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
