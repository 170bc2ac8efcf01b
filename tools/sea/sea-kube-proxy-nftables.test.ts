import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
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
import { sharedSeaExecutable } from './shared-sea';

// Issue #54: an nf_tables batch is atomic only as one sendmsg, and netlink refuses a datagram
// over the socket's send buffer, which SO_SNDBUF caps at twice net.core.wmem_max. The proxy
// raises it past the cap with SO_SNDBUFFORCE (in the executable, through its libc-calls addon),
// which the single executable once could not load (it resolved koffi from the executable's
// directory): every sync of a cluster
// whose batch passed the cap failed. This runs the built executable, alone in a directory, on a
// cluster sized from this machine's wmem_max so that its first batch is over the cap.

/** Endpoints per Service: one EndpointSlice each (a slice holds up to 1,000). */
const ENDPOINTS = 250;
/** Batch bytes per endpoint, a lower estimate (2,000 x 50 made a 6.6 MB batch). */
const BYTES_PER_ENDPOINT = 60;
/** The most a socket's send buffer reaches without SO_SNDBUFFORCE: the kernel doubles wmem_max. */
const capBytes = 2 * Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8').trim());
/** Enough Services for a batch at least 1.25 times the cap. */
const SERVICES = Math.ceil((1.25 * capBytes) / (BYTES_PER_ENDPOINT * ENDPOINTS));

let api: ApiServer;
let ns: Netns;
let dir: string;
let bridge: NetnsTcpBridge | undefined;
let daemon: ChildProcess | undefined;
let executable: string;

/** A sample's value from the proxy's /metrics (0 when it has none yet or does not answer). */
async function metric(series: string): Promise<number> {
  const r = await ns.exec('curl', ['-sS', '--max-time', '2', 'http://127.0.0.1:10249/metrics'], {
    allowFailure: true,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** Each thread of process `pid`: its name, nice (field 19 of its stat, counted after the name) and id. */
function threadNices(pid: number): Array<[string, number, number]> {
  return readdirSync(`/proc/${pid}/task`).map((id) => {
    const stat = readFileSync(`/proc/${pid}/task/${id}/stat`, 'utf8');
    const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    return [readFileSync(`/proc/${pid}/task/${id}/comm`, 'utf8').trimEnd(), nice, Number(id)];
  });
}

/** Service ports in the kernel's service-ips map (0 when the table is not there). */
async function servicesInKernel(): Promise<number> {
  const r = await ns.exec('nft', ['list', 'map', 'ip', 'kube-proxy', 'service-ips'], { allowFailure: true });
  return (r.stdout.match(/ : (?:goto|jump) /g) ?? []).length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-sea-kp-nft-${process.pid}-`));
  // The run's executable (tools/sea/shared-sea.ts), built or awaited while the cluster is set up,
  // then copied alone into this file's directory.
  const built = sharedSeaExecutable('nodeagent-kube-proxy');
  built.catch(() => undefined); // Awaited below; a failure must not go unhandled meanwhile.
  api = await startApiServer();
  ns = await createNetns({ purpose: 'seakpnft' });
  bridge = await bridgeIntoNetns(ns, api.port);
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigYaml(`http://127.0.0.1:${bridge.port}`));
  addServiceCluster(api, { services: SERVICES, endpointsPerService: ENDPOINTS });
  executable = join(dir, 'nodeagent-kube-proxy');
  copyFileSync((await built).path, executable);
}, 300_000);

afterAll(async () => {
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  await ns?.delete();
  await bridge?.close();
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nodeagent-kube-proxy (single executable), nftables mode', { timeout: 300_000 }, () => {
  it(`writes a first batch over twice net.core.wmem_max (${SERVICES} Services x ${ENDPOINTS} endpoints) in one transaction; every thread keeps the nice it started with`, async () => {
    let log = '';
    daemon = ns.spawn(
      executable,
      [
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
      // Run from its own directory with no node_modules above it: nothing but the executable.
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
    daemon.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    const synced = 'kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"}';
    const failed = 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total';
    // Until the first sync is counted either way (the process alive), polled at 0.5 s.
    for (let done = false; !done && daemon.exitCode === null; ) {
      done = (await metric(synced)) + (await metric(failed)) > 0;
      if (!done) await new Promise((r) => setTimeout(r, 500));
    }
    expect(daemon.exitCode, log).toBeNull();
    expect(await metric(failed), log).toBe(0);
    expect(log).not.toMatch(/over the socket's/);
    expect(await servicesInKernel(), log).toBe(SERVICES);
    // Priorities are the unit's to set (Nice=, CPUWeight=): after the sync every thread, V8's
    // workers included, still runs at the nice inherited from this process (nsenter execs it).
    const threads = threadNices(daemon.pid as number);
    expect(
      threads.some(([name]) => name === 'V8Worker'),
      JSON.stringify(threads),
    ).toBe(true);
    expect(
      threads.every(([, nice]) => nice === getPriority()),
      JSON.stringify(threads),
    ).toBe(true);
  });
});
