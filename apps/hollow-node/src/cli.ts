#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { isFieldError } from '@nodeagent/primitives';
import { HollowNodeFlagError } from './errors';
import { HELP_TEXT, parseHollowNodeFlags } from './hollow-flags';
import type { HollowNodesControl } from './hollow-nodes-options';
import { isHollowWorkerThread, runHollowWorker } from './hollow-worker';
import { openFilesSoftLimit, openFilesWarning } from './open-files-limit';
import { runHollowNodes } from './run-hollow-nodes';
import { versionText } from './version';

/**
 * Prints the report as one JSON document on stdout, stops the nodes and exits: 0, or 1 when a
 * node's stop failed (said on stderr; every other node was still stopped).
 */
async function finish(cluster: HollowNodesControl, reason: string): Promise<never> {
  // A restart wave under way ends first (within its time limit), so that the report has it whole.
  await cluster.endRestartWaves();
  const report = await cluster.report();
  process.stdout.write(`${JSON.stringify({ reason, ...report }, null, 2)}\n`);
  try {
    await cluster.stop();
  } catch (error) {
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'stop', err: String(error) })}\n`);
    process.exit(1);
  }
  process.exit(0);
}

/** nodeagent-hollow-node: start the nodes, run until SIGTERM/SIGINT or --report-after. */
async function main(argv: string[]): Promise<void> {
  const command = parseHollowNodeFlags(argv);
  if ('help' in command) return void process.stdout.write(HELP_TEXT);
  if ('version' in command) return void process.stdout.write(`${versionText()}\n`);
  const flags = command.run;
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(flags.kubeconfig);
  } catch (error) {
    throw new HollowNodeFlagError(
      '--kubeconfig',
      flags.kubeconfig,
      `cannot load: ${(error as Error).message}`,
    );
  }
  // The signals are taken from the start: one during start-up ends it after the wave under way
  // and stops the nodes already up (their temp dirs removed), rather than killing the process.
  let reason: string | undefined;
  let cluster: HollowNodesControl | undefined;
  const starting = new AbortController();
  const stopWith = (why: string) => {
    if (reason !== undefined) return;
    reason = why;
    // During start-up: no further wave starts; the report covers the nodes already up.
    starting.abort();
    if (cluster) void finish(cluster, why).catch(failed);
  };
  const fewFiles = openFilesWarning(flags.nodes, openFilesSoftLimit());
  if (fewFiles) process.stderr.write(`${JSON.stringify({ level: 'warn', msg: fewFiles })}\n`);
  process.on('SIGTERM', () => stopWith('SIGTERM'));
  process.on('SIGINT', () => stopWith('SIGINT'));
  cluster = await runHollowNodes({
    kubeConfig,
    nodes: flags.nodes,
    namePrefix: flags.namePrefix,
    maxPods: flags.maxPods,
    morph: flags.morph,
    signal: starting.signal,
    clientCertificates: flags.clientCertificates,
    restartEveryMs: flags.restartEveryMs,
    restartPercent: flags.restartPercent,
    workers: flags.workers,
    // Both halves read it from the kubelet's configuration (KubeletConfiguration contentType).
    kubeletConfiguration: { contentType: flags.contentType },
    // This file is also the workers' entry (below): the bundle or dist/cli.js starts itself.
    workerEntry: fileURLToPath(import.meta.url),
  });
  process.stderr.write(
    `${JSON.stringify({ level: 'info', msg: 'hollow nodes started', nodes: cluster.nodeCount, workers: flags.workers })}\n`,
  );
  if (reason !== undefined) return void finish(cluster, reason).catch(failed);
  const after = flags.reportAfterMs;
  if (after !== undefined) setTimeout(() => stopWith('report-after'), after);
}

/** How the process ends on an error: an operator's mistake is one line, anything else keeps its stack. */
function failed(error: unknown): never {
  const text = isFieldError(error) ? (error as Error).message : ((error as Error)?.stack ?? String(error));
  process.stderr.write(`nodeagent-hollow-node: ${text}\n`);
  process.exit(1);
}

// A worker thread started by runHollowNodes runs this same file: it runs its share of the nodes.
if (isHollowWorkerThread()) void runHollowWorker();
else main(process.argv.slice(2)).catch(failed);
