import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../daemon-process';
import {
  type BigCluster,
  type BigClusterDaemon,
  closeBigCluster,
  firstSyncUnderWay,
  killLeftover,
  sample,
  spawnDaemon,
  startBigCluster,
} from './big-cluster-daemon';

// Issue #54: SIGTERM while a big iptables sync runs. Upstream's process exits at once; ours
// waited for the sync (one iptables-restore of the whole rule set, over a minute at 5,000
// Services × 50 endpoints). The daemon (its bundle, in a throwaway namespace, against the
// in-process API server) gets SIGTERM once both lists are in (the gated first sync has started)
// and before that sync is counted: at this size the full sync goes over netlink (over 150k chains,
// over FULL_SYNC_OVER_NETLINK_MIN_CHAINS) and then runs a short iptables-restore for the
// built-in chains' jumps, so a running iptables-restore is no signal for "mid-sync" (waiting for
// one made the test miss it now and then). It must exit within a bound far below what the sync
// takes; any iptables-restore it left must end; and the kernel must then hold all the
// Services' rules or none.

/** Services × endpoints: a first sync whose iptables-restore runs for tens of seconds. */
const SERVICES = 3000;
const ENDPOINTS = 50;
/** How long after SIGTERM the process may take to exit (a loaded machine included). */
const EXIT_BOUND_MS = 10_000;

let cluster: BigCluster | undefined;
let daemon: BigClusterDaemon | undefined;

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
  cluster = await startBigCluster('kpsigterm', SERVICES, ENDPOINTS);
}, 120_000);

afterAll(async () => {
  killLeftover(daemon);
  await closeBigCluster(cluster);
});

describe('nodeagent-kube-proxy: SIGTERM during a sync', { timeout: 300_000 }, () => {
  it('exits promptly during the first full sync; any iptables-restore it left ends; the kernel holds all the rules or none', async () => {
    daemon = spawnDaemon(cluster!, []);
    const { child, exited, log: logNow } = daemon;
    const pid = child.pid!;

    // The event: both lists are in (the gated first sync has started) ...
    const { watches, syncsCounted, text } = await firstSyncUnderWay(cluster!, daemon);
    expect(watches, logNow()).toBeGreaterThanOrEqual(3);
    // ... and it has neither ended nor failed.
    expect(syncsCounted, logNow()).toBe(0);
    expect(sample(text, 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total'), logNow()).toBe(0);
    const restores = ipv4RestoreChildren(pid);
    const sentAt = Date.now();
    child.kill('SIGTERM');
    const { code, at } = await exited;
    expect(code, logNow()).toBe(0);
    expect(at - sentAt, logNow()).toBeLessThan(EXIT_BOUND_MS);

    // An orphaned restore ends (its input cut); what the sync leaves is all or nothing.
    const gone = await until(
      async () => restores.every((p) => !existsSync(`/proc/${p}`)),
      (g) => g,
      180_000,
    );
    expect(gone).toBe(true);
    const save = (await cluster!.ns.exec('iptables-save', ['-t', 'nat'])).stdout;
    const serviceChains = save.split('\n').filter((l) => /^:KUBE-SVC-/.test(l)).length;
    expect([0, SERVICES]).toContain(serviceChains);
  });
});
