import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderServiceBlocks } from '../service-block-order';
import { eventually } from './cluster-fixtures';
import { type FidelityDaemon, kubeProxyCli, normalizeSave, startFidelityDaemon } from './fidelity-daemon';

// Upstream kube-proxy v1.36.3's iptables-save and ip6tables-save for the v1.36 fixture's objects
// (its dual-stack proxier runs whenever the host has IPv6): ours, normalized as the fixture's
// README says (counters zeroed, `#` lines dropped), must equal them, the per-Service blocks
// compared as units.

let run: FidelityDaemon;

beforeAll(async () => {
  run = await startFidelityDaemon('kube-proxy-v1.36', { purpose: 'kpfidel136' });
}, 60_000);

afterAll(async () => {
  await run?.stop();
});

describe('iptables mode against upstream v1.36 (fidelity fixture, real kernel)', { timeout: 180_000 }, () => {
  for (const [save, fixture] of [
    ['iptables-save', 'iptables-save.upstream.txt'],
    ['ip6tables-save', 'ip6tables-save.upstream.txt'],
  ] as const) {
    it(`writes exactly upstream's ${save} for the fixture's objects`, async () => {
      const want = normalizeSave(readFileSync(join(run.fixtureDir, fixture), 'utf8'));
      const wanted = orderServiceBlocks(want).join('\n');
      // One sync writes the tables and then the jumps from built-in chains table by table: wait
      // until the listing settles on the expected text (or the time is up), then compare.
      const got = await eventually(
        async () => normalizeSave((await run.node.exec(save, [])).stdout),
        (lines) => orderServiceBlocks(lines).join('\n') === wanted,
        // The daemon starts through tsx and syncs once the informers have synced: slow on a busy machine.
        120_000,
      );
      // Upstream's per-Service block order is Go map order (random between its runs): each
      // block, every other line and every other order must be upstream's exactly.
      expect(orderServiceBlocks(got).join('\n'), run.log()).toBe(wanted);
    });
  }

  it('logs that it runs both families, as upstream on an IPv6-capable host', () => {
    expect(run.log()).toContain('kube-proxy running in dual-stack mode');
    expect(run.log()).toContain('Using iptables Proxier');
  });

  it('stopped, then --cleanup leaves what upstream v1.36 left: KUBE-FIREWALL, its rule and jumps', async () => {
    const { daemon } = run;
    daemon.kill('SIGTERM');
    await new Promise<void>((resolve) =>
      daemon.exitCode !== null ? resolve() : daemon.once('exit', () => resolve()),
    );
    const r = await run.node.exec(process.execPath, [kubeProxyCli(), '--cleanup'], {
      allowFailure: true,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const rules = normalizeSave((await run.node.exec('iptables-save', [])).stdout).filter(
      (l) => l.startsWith('-A ') || (l.startsWith(':') && !/ ACCEPT \[/.test(l)),
    );
    // The fixture README's record of upstream's `kube-proxy --cleanup`: mangle and nat empty.
    expect(rules).toEqual([
      ':KUBE-FIREWALL - [0:0]',
      '-A INPUT -j KUBE-FIREWALL',
      '-A OUTPUT -j KUBE-FIREWALL',
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    ]);
  });
});
