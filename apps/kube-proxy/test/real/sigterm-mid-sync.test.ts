import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

// Issue #54: SIGTERM while a big iptables sync runs. Upstream's process exits at once; ours
// waited for the sync (one iptables-restore of the whole rule set, over a minute at 5,000
// Services × 50 endpoints). The daemon (its bundle, in a throwaway namespace, against the
// in-process API server) gets SIGTERM while its first full sync's iptables-restore is running,
// and must exit within a bound far below what that restore takes. The kernel must then hold
// all the Services' rules or none: the abandoned restore commits no table it did not finish.

/** Services × endpoints: a first sync whose iptables-restore runs for tens of seconds. */
const SERVICES = 3000;
const ENDPOINTS = 50;
/** How long after SIGTERM the process may take to exit (a loaded machine included). */
const EXIT_BOUND_MS = 10_000;

let api: ApiServer;
let ns: Netns;
let dir: string;
let bridge: NetnsTcpBridge | undefined;
let daemon: ChildProcess | undefined;

/** `iptables-restore` (IPv4; any back end) processes whose parent is `ppid`, by pid. */
function ipv4RestoreChildren(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readFileSync(`/proc/${ppid}/task/${ppid}/children`, 'utf8').trim().split(/\s+/)) {
    if (!entry) continue;
    try {
      const argv0 = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (/(^|\/)iptables(-nft|-legacy)?-restore$/.test(argv0)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-kp-sigterm-${process.pid}-`));
  api = await startApiServer();
  ns = await createNetns({ purpose: 'kpsigterm' });
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

describe('nodeagent-kube-proxy: SIGTERM during a sync', { timeout: 300_000 }, () => {
  it('exits promptly while iptables-restore runs; the kernel holds all the rules or none', async () => {
    let log = '';
    const child = ns.spawn(
      process.execPath,
      [
        cli,
        '--kubeconfig',
        join(dir, 'kubeconfig'),
        '--hostname-override',
        'node-a',
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
    const pid = child.pid!;

    // The event: the first full sync's iptables-restore is running.
    const restores = await until(
      async () => (child.exitCode === null ? ipv4RestoreChildren(pid) : []),
      (p) => p.length > 0,
      180_000,
    );
    expect(restores, log).not.toEqual([]);
    const sentAt = Date.now();
    child.kill('SIGTERM');
    const { code, at } = await exited;
    expect(code, log).toBe(0);
    expect(at - sentAt, log).toBeLessThan(EXIT_BOUND_MS);

    // The orphaned restore ends (its input cut); what it leaves is all or nothing.
    const gone = await until(
      async () => restores.every((p) => !existsSync(`/proc/${p}`)),
      (g) => g,
      180_000,
    );
    expect(gone).toBe(true);
    const save = (await ns.exec('iptables-save', ['-t', 'nat'])).stdout;
    const serviceChains = save.split('\n').filter((l) => /^:KUBE-SVC-/.test(l)).length;
    expect([0, SERVICES]).toContain(serviceChains);
  });
});
