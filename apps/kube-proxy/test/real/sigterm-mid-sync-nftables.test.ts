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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, until } from '../daemon-process';

// Issue #54, nftables mode: SIGTERM while the first full sync of a big cluster runs. Upstream's
// process exits at once. The daemon (its bundle, in a throwaway namespace, against the
// in-process API server) gets SIGTERM once both Service and EndpointSlice lists are in (their
// watches are open, so the gated first sync has started) and before that sync is counted in
// the sync metrics; it must exit 0 within a bound, and the kernel must hold every Service's
// map element or none: the netlink transaction is all or nothing, however it was cut short.

/**
 * Services × endpoints: a first nftables sync of a second or more whose netlink batch (~6.6 MB)
 * fits the 8 MiB a socket gets under net.core.wmem_max = 4 MiB without SO_SNDBUFFORCE.
 */
const SERVICES = 2000;
const ENDPOINTS = 50;
/** How long after SIGTERM the process may take to exit (a loaded machine included). */
const EXIT_BOUND_MS = 10_000;
/** Watches the daemon opens once each list is in: Services, EndpointSlices, its Node. */
const WATCHES_WHEN_LISTED = 3;

let api: ApiServer;
let ns: Netns;
let dir: string;
let bridge: NetnsTcpBridge | undefined;
let daemon: ChildProcess | undefined;

/** The daemon's /metrics text; '' while its metrics server does not answer. */
async function metricsText(): Promise<string> {
  const r = await ns.exec('curl', ['-sS', '--max-time', '2', 'http://127.0.0.1:10249/metrics'], {
    allowFailure: true,
  });
  return r.exitCode === 0 ? r.stdout : '';
}

/** The sum of a series' samples over its labels (0 when it has none yet, as a labelled counter before its first inc). */
function sample(text: string, series: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${series} `) || line.startsWith(`${series}{`))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** Service ports in the kernel's service-ips map (0 when the table is not there). */
async function servicesInKernel(): Promise<number> {
  const r = await ns.exec('nft', ['list', 'map', 'ip', 'kube-proxy', 'service-ips'], { allowFailure: true });
  return (r.stdout.match(/ : (?:goto|jump) /g) ?? []).length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-kp-sigterm-nft-${process.pid}-`));
  api = await startApiServer();
  ns = await createNetns({ purpose: 'kpsigtermnft' });
  bridge = await bridgeIntoNetns(ns, api.port);
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigYaml(`http://127.0.0.1:${bridge.port}`));
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    status: { addresses: [{ type: 'InternalIP', address: '10.250.0.7' }] },
  });
  addServiceCluster(api, { services: SERVICES, endpointsPerService: ENDPOINTS });
}, 120_000);

afterAll(async () => {
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  await ns?.delete();
  await bridge?.close();
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nodeagent-kube-proxy --proxy-mode nftables: SIGTERM during a sync', { timeout: 300_000 }, () => {
  it('exits promptly during the first full sync; the kernel holds every Service or none', async () => {
    let log = '';
    const child = ns.spawn(
      process.execPath,
      [
        cli,
        '--kubeconfig',
        join(dir, 'kubeconfig'),
        '--hostname-override',
        'node-a',
        '--proxy-mode',
        'nftables',
        '--healthz-bind-address',
        '127.0.0.1:10256',
        '--metrics-bind-address',
        '127.0.0.1:10249',
        '--cluster-cidr',
        '10.128.0.0/9',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    daemon = child;
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.on('exit', (code) => resolve({ code, at: Date.now() })),
    );

    // The event: both lists are in (the gated first sync has started) ...
    const watches = await until(
      async () => (child.exitCode === null ? api.openWatches : -1),
      (n) => n < 0 || n >= WATCHES_WHEN_LISTED,
      180_000,
    );
    expect(watches, log).toBeGreaterThanOrEqual(WATCHES_WHEN_LISTED);
    // ... and it has neither ended (a sync ends by counting itself) nor failed.
    const text = await metricsText();
    expect(sample(text, 'kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"}'), log).toBe(0);
    expect(sample(text, 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total'), log).toBe(0);
    const sentAt = Date.now();
    child.kill('SIGTERM');
    const { code, at } = await exited;
    expect(code, log).toBe(0);
    expect(at - sentAt, log).toBeLessThan(EXIT_BOUND_MS);
    expect([0, SERVICES]).toContain(await servicesInKernel());
  });
});
