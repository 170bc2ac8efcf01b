import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApiServer,
  addServiceCluster,
  bridgeIntoNetns,
  createNetns,
  kubeconfigYaml,
  type Netns,
  type NetnsTcpBridge,
  startApiServer,
} from '@nodeagent/testing';
import { cli, until } from '../daemon-process';

// What the SIGTERM-mid-sync tests share (issue #54): a big cluster in the in-process API server,
// reached from a throwaway network namespace, and the daemon started in that namespace.

/** The API server, the namespace bridged to it, and a directory holding the kubeconfig. */
export interface BigCluster {
  api: ApiServer;
  ns: Netns;
  dir: string;
  bridge: NetnsTcpBridge;
}

/** `services` × `endpointsPerService` ready endpoints and node `node-a`, seen from a new namespace. */
export async function startBigCluster(
  purpose: string,
  services: number,
  endpointsPerService: number,
): Promise<BigCluster> {
  const dir = mkdtempSync(join(tmpdir(), `na-${purpose}-${process.pid}-`));
  const api = await startApiServer();
  const ns = await createNetns({ purpose });
  const bridge = await bridgeIntoNetns(ns, api.port);
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigYaml(`http://127.0.0.1:${bridge.port}`));
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    status: { addresses: [{ type: 'InternalIP', address: '10.250.0.7' }] },
  });
  addServiceCluster(api, { services, endpointsPerService });
  return { api, ns, dir, bridge };
}

/** Tears down what startBigCluster made (any part may be missing after a failed start). */
export async function closeBigCluster(cluster: Partial<BigCluster> | undefined): Promise<void> {
  await cluster?.ns?.delete();
  await cluster?.bridge?.close();
  await cluster?.api?.close();
  if (cluster?.dir) rmSync(cluster.dir, { recursive: true, force: true });
}

/** The daemon running in the cluster's namespace, its stderr so far and its exit. */
export interface BigClusterDaemon {
  child: ChildProcess;
  log: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

/** The binary as node `node-a` with healthz on :10256, metrics on :10249 and `modeArgs`. */
export function spawnDaemon(cluster: BigCluster, modeArgs: readonly string[]): BigClusterDaemon {
  let log = '';
  const child = cluster.ns.spawn(
    process.execPath,
    [
      cli,
      '--kubeconfig',
      join(cluster.dir, 'kubeconfig'),
      '--hostname-override',
      'node-a',
      ...modeArgs,
      '--healthz-bind-address',
      '127.0.0.1:10256',
      '--metrics-bind-address',
      '127.0.0.1:10249',
      '--cluster-cidr',
      '10.128.0.0/9',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, log: () => log, exited };
}

/** SIGKILL for a daemon a failed test left running. */
export function killLeftover(daemon: BigClusterDaemon | undefined): void {
  const child = daemon?.child;
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Watches the daemon opens once each list is in: Services, EndpointSlices, its Node. */
const WATCHES_WHEN_LISTED = 3;

/** The daemon's /metrics text; '' while its metrics server does not answer. */
export async function metricsText(cluster: BigCluster): Promise<string> {
  const r = await cluster.ns.exec('curl', ['-sS', '--max-time', '2', 'http://127.0.0.1:10249/metrics'], {
    allowFailure: true,
  });
  return r.exitCode === 0 ? r.stdout : '';
}

/** The sum of a series' samples over its labels (0 when it has none yet, as a labelled counter before its first inc). */
export function sample(text: string, series: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${series} `) || line.startsWith(`${series}{`))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/**
 * Waits until both lists are in (their watches open, so the gated first sync has started) and
 * returns the open watches (-1 if the daemon exited first), the IPv4 syncs counted right after
 * (a sync ends by counting itself: 0 while the first runs) and that metrics text, in which the
 * caller checks that no sync failed.
 */
export async function firstSyncUnderWay(
  cluster: BigCluster,
  daemon: BigClusterDaemon,
): Promise<{ watches: number; syncsCounted: number; text: string }> {
  const watches = await until(
    async () => (daemon.child.exitCode === null ? cluster.api.openWatches : -1),
    (n) => n < 0 || n >= WATCHES_WHEN_LISTED,
    180_000,
  );
  const text = await metricsText(cluster);
  const syncsCounted = sample(text, 'kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"}');
  return { watches, syncsCounted, text };
}
