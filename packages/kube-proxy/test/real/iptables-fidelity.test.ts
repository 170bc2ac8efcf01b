import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderServiceBlocks } from '../service-block-order';
import { eventually } from './cluster-fixtures';
import { type FidelityDaemon, normalizeSave, startFidelityDaemon } from './fidelity-daemon';

// Upstream kube-proxy v1.32.13's iptables-save for the v1.32 fixture's objects: ours, normalized as
// the fixture's README says (counters zeroed, `#` lines dropped), must equal it line for line.

let run: FidelityDaemon;

beforeAll(async () => {
  run = await startFidelityDaemon('kube-proxy-v1.32', {
    purpose: 'kpfidelity',
    // Jumps as earlier versions of ours wrote them (comment before conntrack): the first full
    // sync must replace them, or the listing would hold both forms.
    async prepare(node) {
      for (const [chain, target, comment] of [
        ['OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals'],
        ['INPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall'],
      ] as const) {
        await node.exec('iptables', ['-w', '-N', target]);
        await node.exec('iptables', [
          '-w',
          '-I',
          chain,
          '-m',
          'comment',
          '--comment',
          comment,
          '-m',
          'conntrack',
          '--ctstate',
          'NEW',
          '-j',
          target,
        ]);
      }
    },
  });
}, 60_000);

afterAll(async () => {
  await run?.stop();
});

describe('iptables mode against upstream v1.32 (fidelity fixture, real kernel)', { timeout: 180_000 }, () => {
  it("writes exactly upstream's iptables-save for the fixture's objects", async () => {
    const want = normalizeSave(readFileSync(join(run.fixtureDir, 'iptables-save.upstream.txt'), 'utf8'));
    const wanted = orderServiceBlocks(want).join('\n');
    // One sync writes the tables and then the jumps from built-in chains table by table: wait
    // until the listing settles on the expected text (or the time is up), then compare.
    const got = await eventually(
      async () => normalizeSave((await run.node.exec('iptables-save', [])).stdout),
      (lines) => orderServiceBlocks(lines).join('\n') === wanted,
      // The daemon starts through tsx and syncs once the informers have synced: slow on a busy machine.
      120_000,
    );
    // Upstream writes each service port's rules in Go map order (random on every sync), so in
    // the chains many Services share only the order of those blocks may differ; each block,
    // every other line and every other order must be upstream's exactly.
    expect(orderServiceBlocks(got).join('\n'), run.log()).toBe(wanted);
    // Ours are in service port name order, deterministic (partial syncs compare chain text).
    expect(got).toEqual(orderServiceBlocks(got));
  });

  it('created the nfacct counters, and publishes them as metrics read from the kernel', async () => {
    const metrics = (await run.node.exec('curl', ['-sS', 'http://127.0.0.1:10249/metrics'])).stdout;
    expect(metrics).toMatch(/^kubeproxy_iptables_ct_state_invalid_dropped_packets_total 0$/m);
    expect(metrics).toMatch(/^kubeproxy_iptables_localhost_nodeports_accepted_packets_total 0$/m);
    // A packet to a localhost NodePort is counted (no endpoint answers: its SYN is enough).
    await run.node.exec('curl', ['-sS', '--max-time', '1', 'http://127.0.0.1:30081/'], {
      allowFailure: true,
    });
    const after = await eventually(
      async () => (await run.node.exec('curl', ['-sS', 'http://127.0.0.1:10249/metrics'])).stdout,
      (m) => /^kubeproxy_iptables_localhost_nodeports_accepted_packets_total [1-9]/m.test(m),
    );
    expect(after).toMatch(/^kubeproxy_iptables_localhost_nodeports_accepted_packets_total [1-9]/m);
  });
});
