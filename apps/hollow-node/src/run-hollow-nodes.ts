import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KubeletConfiguration, parseKubeletConfiguration } from '@nodeagent/kubelet';
import { metricsUsage } from './api-server-usage';
import { hollowLogger } from './hollow-logger';
import { type HollowNode, type HollowNodeShared, startHollowNode } from './hollow-node';
import type { HollowNodesControl, HollowNodesOptions } from './hollow-nodes-options';
import { type CountsSnapshot, countsSnapshot, hollowReport, readRunStart } from './hollow-report';
import { runInWorkers } from './hollow-workers';
import { bootstrappedCredentials, sharedCredentials } from './node-credentials';
import { RequestCounter } from './request-counter';
import { RestartWaves } from './restart-waves';
import { SharedMachine } from './shared-machine';
import { packageVersion } from './version';
import { WaveQueue } from './wave-queue';

/** The running nodes of this thread. */
export interface HollowCluster extends HollowNodesControl {
  readonly nodes: readonly HollowNode[];
  readonly counter: RequestCounter;
  /** These nodes' counts and running pods as plain data (what a worker thread posts up). */
  snapshot(): CountsSnapshot;
  /** Resolves once every node's kube-proxy half has synced (or the wave's time limit passed). */
  untilSteady(): Promise<void>;
}

/** How often the fake runtimes' call logs (kept for tests, unbounded) are emptied: one timer for all. */
const CALL_LOG_TRIM_MS = 10_000;

/**
 * The hollow kubelet's configuration, shared by every node: upstream's defaults with maxPods, the
 * run's log and FlexVolume directories (upstream's hollow kubelet probes no FlexVolume driver and
 * makes no directory outside its own) and a cluster DNS address (pods with dnsPolicy ClusterFirst
 * get a resolv.conf as on a kubeadm cluster instead of the MissingClusterDNS event).
 */
function hollowKubeletConfiguration(runDir: string, options: HollowNodesOptions): KubeletConfiguration {
  return parseKubeletConfiguration({
    maxPods: options.maxPods ?? 110,
    podLogsDir: join(runDir, 'logs'),
    volumePluginDir: join(runDir, 'volume-plugins'),
    clusterDNS: ['10.96.0.10'],
    clusterDomain: 'cluster.local',
    ...options.kubeletConfiguration,
  }).config;
}

/**
 * Starts `names` `concurrency` at a time, in order, until `signal` is aborted; on a failure stops
 * the started ones and rethrows.
 */
async function startInWaves(
  names: string[],
  firstIndex: number,
  shared: HollowNodeShared,
  concurrency: number,
  signal: AbortSignal | undefined,
): Promise<HollowNode[]> {
  const started: HollowNode[] = [];
  try {
    for (let first = 0; first < names.length && !signal?.aborted; first += concurrency) {
      const wave = names.slice(first, first + concurrency);
      started.push(
        ...(await Promise.all(wave.map((name, i) => startHollowNode(firstIndex + first + i, name, shared)))),
      );
    }
  } catch (error) {
    await Promise.allSettled(started.map((node) => node.stop()));
    throw error;
  }
  return started;
}

/**
 * Starts `nodes` hollow nodes in this process against `kubeConfig`'s API server: each registers
 * its Node, renews its Lease, runs the pods bound to it on its own fake runtime and writes their
 * status, and renders its Services into its own fake iptables, with its own clients, watches,
 * user agent and (clientCertificates) client certificate. Its requests and bytes are counted from
 * the start; report() reads them with this process's RSS and CPU, the API server's CPU and the
 * restart waves run so far. With `workers`, the nodes run in that many worker threads and the
 * report sums what each posts up.
 */
export function runHollowNodes(options: HollowNodesOptions & { workers?: 0 }): Promise<HollowCluster>;
export function runHollowNodes(options: HollowNodesOptions): Promise<HollowNodesControl>;
export function runHollowNodes(options: HollowNodesOptions): Promise<HollowNodesControl> {
  return options.workers ? runInWorkers(options) : runInThisThread(options);
}

/** runHollowNodes without workers: every node in this thread (a worker runs its share so). */
export async function runInThisThread(options: HollowNodesOptions): Promise<HollowCluster> {
  const apiServerUsage = options.apiServerUsage ?? metricsUsage(options.kubeConfig);
  const start = await readRunStart(apiServerUsage);
  const morph = options.morph ?? 'both';
  const firstIndex = options.firstIndex ?? 0;
  const names = Array.from(
    { length: options.nodes },
    (_, i) => `${options.namePrefix ?? 'hollow-node-'}${firstIndex + i}`,
  );
  const counter = new RequestCounter(names);
  counter.start();
  const runDir = await mkdtemp(join(tmpdir(), `na-hollow-${process.pid}-`));
  const write = options.log ?? ((line: string) => process.stderr.write(line));
  const logger = (name: string) => hollowLogger(name, write);
  let nodes: HollowNode[];
  try {
    // Inside the try: a bad configuration or version lookup must not leave the run's dir behind.
    // FlexVolume's directory made once here: each node would otherwise find it missing and say so.
    await mkdir(join(runDir, 'volume-plugins'));
    const shared: HollowNodeShared = {
      credentials: options.clientCertificates
        ? bootstrappedCredentials(options.kubeConfig, runDir, logger)
        : sharedCredentials(options.kubeConfig),
      config: hollowKubeletConfiguration(runDir, options),
      morph,
      version: packageVersion(),
      runDir,
      machine: new SharedMachine(runDir),
      logger,
    };
    nodes = await startInWaves(names, firstIndex, shared, options.startConcurrency ?? 10, options.signal);
  } catch (error) {
    counter.stop();
    await rm(runDir, { recursive: true, force: true });
    throw error;
  }
  const trim = setInterval(() => {
    for (const node of nodes) if (node.runtime) node.runtime.fake.calls.length = 0;
  }, CALL_LOG_TRIM_MS);
  trim.unref();
  const waves = new RestartWaves(nodes, counter, {
    percent: options.restartPercent ?? 10,
    runStartMs: start.atMs,
  });
  const waveErrors = (error: unknown) =>
    write(`${JSON.stringify({ level: 'error', msg: 'restart wave', err: String(error) })}\n`);
  const queue = new WaveQueue(
    async () => {
      await waves.untilSteady();
      return waves.run();
    },
    nodes.length > 0 ? options.restartEveryMs : undefined,
    waveErrors,
  );
  return {
    nodes,
    nodeCount: nodes.length,
    counter,
    snapshot: () => countsSnapshot(nodes, counter),
    report: () =>
      hollowReport({
        nodeCount: nodes.length,
        morph,
        counts: countsSnapshot(nodes, counter),
        start,
        apiServer: apiServerUsage,
        restartWaves: waves.reports,
      }),
    restartWave: () => queue.run(),
    untilSteady: () => waves.untilSteady(),
    endRestartWaves: () => queue.stop(),
    async stop() {
      clearInterval(trim);
      await queue.stop();
      // Every node is stopped and the run's directory removed even when one stop fails.
      const stops = await Promise.allSettled(nodes.map((node) => node.stop()));
      counter.stop();
      await rm(runDir, { recursive: true, force: true });
      const failed = stops.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
