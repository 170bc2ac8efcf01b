#!/usr/bin/env node
import { KubeConfig } from '@kubernetes/client-node';
import { isFieldError } from '@nodeagent/primitives';
import { HollowNodeFlagError } from './errors';
import { HELP_TEXT, parseHollowNodeFlags } from './hollow-flags';
import { openFilesSoftLimit, openFilesWarning } from './open-files-limit';
import { type HollowCluster, runHollowNodes } from './run-hollow-nodes';
import { versionText } from './version';

/** Prints the report as one JSON document on stdout, stops the nodes and exits. */
async function finish(cluster: HollowCluster, reason: string): Promise<never> {
  const report = await cluster.report();
  process.stdout.write(`${JSON.stringify({ reason, ...report }, null, 2)}\n`);
  await cluster.stop();
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
  let cluster: HollowCluster | undefined;
  const starting = new AbortController();
  const stopWith = (why: string) => {
    if (reason !== undefined) return;
    reason = why;
    // During start-up: no further wave starts; the report covers the nodes already up.
    starting.abort();
    if (cluster) void finish(cluster, why);
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
  });
  process.stderr.write(
    `${JSON.stringify({ level: 'info', msg: 'hollow nodes started', nodes: cluster.nodes.length })}\n`,
  );
  if (reason !== undefined) return void finish(cluster, reason);
  const after = flags.reportAfterMs;
  if (after !== undefined) setTimeout(() => stopWith('report-after'), after);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // An operator's mistake is one line; anything else keeps its stack for the bug report.
  const text = isFieldError(error) ? (error as Error).message : ((error as Error)?.stack ?? String(error));
  process.stderr.write(`nodeagent-hollow-node: ${text}\n`);
  process.exit(1);
});
