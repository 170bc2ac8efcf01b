import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { KubeConfig } from '@kubernetes/client-node';
import type { ApiServerUsageSource } from './api-server-usage';
import { type HollowCluster, runInThisThread } from './run-hollow-nodes';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol';

/** A worker reports no API server usage: the parent reads it once for the whole run. */
const READ_BY_PARENT: ApiServerUsageSource = {
  name: 'parent',
  read: async () => ({ cpuSeconds: 0, watches: undefined }),
};

/** Whether this thread is a hollow node worker (started by runHollowNodes with `workers`). */
export function isHollowWorkerThread(): boolean {
  return !isMainThread && (workerData as Partial<WorkerSetup> | null)?.hollowWorker === true;
}

/** Answers one of the parent's messages once the share has started. */
async function handle(
  message: ToWorker,
  cluster: HollowCluster,
  post: (m: FromWorker) => void,
): Promise<void> {
  if (message.type === 'counts') post({ type: 'counts', id: message.id, snapshot: cluster.snapshot() });
  else if (message.type === 'steady')
    await cluster.untilSteady().then(() => post({ type: 'steady', id: message.id }));
  else if (message.type === 'wave')
    await cluster.restartWave().then(
      (report) => post({ type: 'wave', id: message.id, report }),
      (error: unknown) => post({ type: 'wave', id: message.id, error: String(error) }),
    );
  else if (message.type === 'stop')
    await cluster.stop().then(
      () => post({ type: 'stopped' }),
      (error: unknown) => post({ type: 'stopped', error: String(error) }),
    );
}

/**
 * A worker thread's side: runs its share of the nodes (workerData, a WorkerSetup) in this thread
 * and does what the parent's messages say; it posts only plain data up (started, log lines,
 * counts, wave reports, stopped).
 */
export async function runHollowWorker(): Promise<void> {
  const setup = workerData as WorkerSetup;
  const port = parentPort as MessagePort;
  const post = (m: FromWorker) => port.postMessage(m);
  const starting = new AbortController();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(setup.kubeConfig);
  const running = runInThisThread({
    kubeConfig,
    nodes: setup.nodes,
    firstIndex: setup.firstIndex,
    namePrefix: setup.namePrefix,
    maxPods: setup.maxPods,
    morph: setup.morph,
    kubeletConfiguration: setup.kubeletConfiguration,
    startConcurrency: setup.startConcurrency,
    clientCertificates: setup.clientCertificates,
    restartPercent: setup.restartPercent,
    signal: starting.signal,
    log: (line) => post({ type: 'log', line }),
    apiServerUsage: READ_BY_PARENT,
  });
  // Messages that come during start-up wait for it (abort acts at once).
  port.on('message', (message: ToWorker) => {
    if (message.type === 'abort') return starting.abort();
    void running.then((cluster) => handle(message, cluster, post)).catch(() => undefined);
  });
  try {
    post({ type: 'started', nodes: (await running).nodeCount });
  } catch (error) {
    post({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    port.close();
  }
}
