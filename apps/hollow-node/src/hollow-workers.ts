import { metricsUsage } from './api-server-usage';
import type { HollowNodesControl, HollowNodesOptions } from './hollow-nodes-options';
import { hollowReport, mergeSnapshots, readRunStart } from './hollow-report';
import { mergeWaveReports, type RestartWaveReport } from './restart-waves';
import { WaveQueue } from './wave-queue';
import type { WorkerSetup } from './worker-protocol';
import { WorkerShare } from './worker-share';
import { startWorkerThread } from './worker-thread';

/** `n` nodes in `k` contiguous shares as even as can be: each share's first index and size. */
export function splitNodes(n: number, k: number): { firstIndex: number; nodes: number }[] {
  const shares = [];
  for (let w = 0, first = 0; w < k; w++) {
    const size = Math.floor(n / k) + (w < n % k ? 1 : 0);
    shares.push({ firstIndex: first, nodes: size });
    first += size;
  }
  return shares;
}

/** What worker `share` is told to run. */
function workerSetup(
  options: HollowNodesOptions,
  share: { firstIndex: number; nodes: number },
  k: number,
): WorkerSetup {
  return {
    hollowWorker: true,
    kubeConfig: options.kubeConfig.exportConfig(),
    firstIndex: share.firstIndex,
    nodes: share.nodes,
    namePrefix: options.namePrefix ?? 'hollow-node-',
    maxPods: options.maxPods,
    morph: options.morph ?? 'both',
    kubeletConfiguration: options.kubeletConfiguration,
    // The process as a whole still starts `startConcurrency` nodes at a time.
    startConcurrency: Math.max(1, Math.ceil((options.startConcurrency ?? 10) / k)),
    clientCertificates: options.clientCertificates ?? false,
    restartPercent: options.restartPercent ?? 10,
  };
}

/** Starts every worker's share; on any failure stops them all and rethrows. */
async function startShares(
  options: HollowNodesOptions,
  entry: string,
  log: (line: string) => void,
): Promise<{ shares: WorkerShare[]; nodeCount: number }> {
  const k = Math.max(1, Math.min(options.workers ?? 1, options.nodes));
  const shares = splitNodes(options.nodes, k).map(
    (share) => new WorkerShare(startWorkerThread(entry, workerSetup(options, share, k)), log),
  );
  // A signal during start-up: each worker stops starting and reports the nodes it has up.
  const abort = () => {
    for (const share of shares) share.abort();
  };
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    const counts = await Promise.all(shares.map((share) => share.started));
    return { shares, nodeCount: counts.reduce((sum, c) => sum + c, 0) };
  } catch (error) {
    abort();
    await Promise.allSettled(shares.map((share) => share.stop()));
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}

/**
 * runHollowNodes with `workers`: the nodes spread over that many worker threads (contiguous
 * shares), each thread running its share with its own event loop, clients and watches. The
 * parent holds no node: it tells the workers to start, report, run a wave and stop, and sums the
 * plain counts they post up; the process's CPU and RSS (every thread's) and the API server's
 * usage are read here.
 */
export async function runInWorkers(options: HollowNodesOptions): Promise<HollowNodesControl> {
  if (!options.workerEntry)
    throw new Error('runHollowNodes: workers need a workerEntry (the script a worker runs)');
  const apiServerUsage = options.apiServerUsage ?? metricsUsage(options.kubeConfig);
  const start = await readRunStart(apiServerUsage);
  const log = options.log ?? ((line: string) => process.stderr.write(line));
  const { shares, nodeCount } = await startShares(options, options.workerEntry, log);
  const waveReports: RestartWaveReport[] = [];
  // Every worker restarts its share of the wave at the same moment: one wave of the whole run,
  // once every worker's nodes are steady.
  const queue = new WaveQueue(
    async () => {
      await Promise.all(shares.map((s) => s.steady()));
      const report = mergeWaveReports(waveReports.length + 1, await Promise.all(shares.map((s) => s.wave())));
      waveReports.push(report);
      return report;
    },
    nodeCount > 0 ? options.restartEveryMs : undefined,
    (error) => log(`${JSON.stringify({ level: 'error', msg: 'restart wave', err: String(error) })}\n`),
  );
  return {
    nodeCount,
    report: async () =>
      hollowReport({
        nodeCount,
        morph: options.morph ?? 'both',
        counts: mergeSnapshots(await Promise.all(shares.map((s) => s.counts()))),
        start,
        apiServer: apiServerUsage,
        restartWaves: waveReports,
      }),
    restartWave: () => queue.run(),
    endRestartWaves: () => queue.stop(),
    async stop() {
      await queue.stop();
      // Every worker is stopped even when another's stop fails.
      const stops = await Promise.allSettled(shares.map((s) => s.stop()));
      const failed = stops.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
