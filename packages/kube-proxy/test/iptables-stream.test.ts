import { type CommandRunner, InputAbortedError, IptablesClient } from '@nodeagent/netfilter';
import { FakeIptables } from '@nodeagent/netfilter/testing';
import { describe, expect, it } from 'vitest';
import { KubeProxyMetrics, snapshotFromObjects } from '../src/index';
import { readKernelForFullSync } from '../src/iptables/base-setup';
import {
  cidrLocalDetector,
  execIptables,
  type IptablesBackendOptions,
  IptablesProxier,
  IptablesRuleCache,
  iptablesExecutor,
  renderIptablesRuleset,
  SyncStreamNotFinishedError,
} from '../src/iptables/index';
import { service, slice } from './fixtures';
import { expectedTables, RestoreSim } from './iptables-restore-sim';

const OPTIONS: IptablesBackendOptions = { localDetector: cidrLocalDetector('10.244.0.0/16') };

function objects(n: number, per: number) {
  return {
    services: Array.from({ length: n }, (_, i) =>
      service(`s${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}` }),
    ),
    endpointSlices: Array.from({ length: n }, (_, i) =>
      slice(
        `s${i}`,
        Array.from({ length: per }, (_, k) => ({ ip: `10.244.${i & 255}.${k + 1}` })),
      ),
    ),
  };
}

const snapshotOf = (n: number, per: number) =>
  snapshotFromObjects({ family: 'IPv4', nodeName: 'n1', ...objects(n, per) });

async function drain(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

describe('IptablesRuleCache.streamFullSync', () => {
  it('streams, in several chunks, exactly the payload prepare renders; COMMIT only in the last chunk', async () => {
    const snapshot = snapshotOf(300, 10);
    const fake = new FakeIptables();
    // Leftovers of a Service that no longer exists, and someone else's chain.
    await fake.restore('*nat\n:KUBE-SVC-GONE - [0:0]\n:KUBE-SEP-GONE - [0:0]\n:DOCKER - [0:0]\nCOMMIT\n');
    const kernel = await readKernelForFullSync(iptablesExecutor(fake));
    const full = { full: true as const, existingNatChains: kernel.natChains, setup: kernel.setup };
    const prepared = new IptablesRuleCache(OPTIONS).prepare(snapshot, full);

    const stream = new IptablesRuleCache(OPTIONS).streamFullSync(snapshot, Promise.resolve(full));
    expect(() => stream.result()).toThrow(SyncStreamNotFinishedError);
    const chunks = await drain(stream.chunks);
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks.slice(0, -1)) expect(c).not.toContain('COMMIT');
    const result = stream.result();
    expect(result.payload).toBe(prepared.payload);
    // The stream is the nat section; filter and the jumps follow as the unwidened tail. No mangle:
    // the canaries there are the canary monitor's.
    expect(chunks.join('').startsWith('*nat\n')).toBe(true);
    expect(chunks.join('')).not.toContain('*filter');
    expect(stream.tail().startsWith('*filter\n')).toBe(true);
    expect(stream.tail()).not.toContain('*mangle');
    expect(chunks.join('') + stream.tail()).toBe(result.payload + result.jumpPayload);
    expect(result.deletedChains).toEqual(['KUBE-SEP-GONE', 'KUBE-SVC-GONE']);
    expect(result.ruleCounts).toEqual(prepared.ruleCounts);
    expect(result.jumpPayload).toBe(prepared.jumpPayload);
    // The estimate the restore strategy sees is close to the real size.
    expect(stream.expected.chains).toBe(300 * 11 + 9);
    expect(stream.expected.rules).toBeGreaterThan(0.8 * result.ruleCounts.nat);
    expect(stream.expected.rules).toBeLessThan(1.2 * result.ruleCounts.nat);

    // And the kernel (simulated) ends up with what a full build describes.
    const sim = new RestoreSim();
    sim.apply('*nat\n:KUBE-SVC-GONE - [0:0]\n:KUBE-SEP-GONE - [0:0]\n:DOCKER - [0:0]\nCOMMIT\n');
    sim.apply(result.payload);
    const want = expectedTables(renderIptablesRuleset(snapshot, OPTIONS).payload);
    expect(sim.dump('nat', (c) => c.startsWith('KUBE-'))).toEqual(want.nat);
    expect(sim.dump('filter', (c) => c.startsWith('KUBE-'))).toEqual(want.filter);
    expect(sim.chains('nat').has('DOCKER')).toBe(true);
    // Missing from the kernel it read: declared for the kubelet's jumps to it.
    expect(sim.chains('filter').has('KUBE-FIREWALL')).toBe(true);
  });

  it('throws before any COMMIT when the kernel read fails, and the cache still syncs afterwards', async () => {
    const cache = new IptablesRuleCache(OPTIONS);
    const sim = new RestoreSim();
    const first = cache.prepare(snapshotOf(40, 10), { full: true, existingNatChains: [] });
    sim.apply(first.payload);
    cache.commit(first);
    const snapshot = snapshotOf(50, 10);
    const stream = cache.streamFullSync(snapshot, Promise.reject(new Error('iptables-save: failed')));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const c of stream.chunks) seen.push(c);
      })(),
    ).rejects.toThrow('iptables-save: failed');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.join('')).not.toContain('COMMIT');

    // An abandoned stream leaves nothing half-done: a partial sync renders what it needs.
    const partial = cache.prepare(snapshot, { full: false });
    sim.apply(partial.payload);
    const want = expectedTables(renderIptablesRuleset(snapshot, OPTIONS).payload);
    expect(sim.dump('nat')).toEqual(want.nat);
  });
});

describe('IptablesProxier full syncs through restoreStream', () => {
  function proxierWith(ipt: FakeIptables, metrics = new KubeProxyMetrics()) {
    const proxier = new IptablesProxier({
      family: 'IPv4',
      nodeName: 'n1',
      executor: iptablesExecutor(ipt),
      metrics,
    });
    const { services, endpointSlices } = objects(120, 10);
    for (const s of services) proxier.onServiceAdd(s);
    for (const s of endpointSlices) proxier.onEndpointSliceAdd(s);
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    return proxier;
  }

  it('streams full syncs (large cluster mode at 1200 endpoints) and restores partial ones whole', async () => {
    const ipt = new FakeIptables();
    const proxier = proxierWith(ipt);
    expect(await proxier.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    expect(ipt.streams).toHaveLength(1);
    expect(ipt.streams[0]).toBeGreaterThan(1);
    expect(proxier.lastSync?.largeClusterMode).toBe(true);
    // Jumps from built-in chains: in the same run, after the streamed payload.
    expect(ipt.restores).toHaveLength(1);
    expect(ipt.restores[0]!.startsWith(proxier.lastPayload)).toBe(true);
    expect(proxier.lastPayload).not.toContain('-I PREROUTING');
    expect(ipt.restores[0]!.slice(proxier.lastPayload.length)).toContain('-I PREROUTING');
    expect(ipt.builtinChainRules().some((r) => r.startsWith('nat PREROUTING'))).toBe(true);

    proxier.onEndpointSliceUpdate(slice('s1', [{ ip: '10.244.1.1' }]), slice('s1', [{ ip: '10.244.1.77' }]));
    expect(await proxier.syncProxyRules()).toMatchObject({ kind: 'partial', ok: true });
    expect(ipt.streams).toHaveLength(1);
    await proxier.stop();
  });

  it('a full sync whose kernel read fails applies nothing, counts the failure and is retried in full', async () => {
    const ipt = new FakeIptables();
    const metrics = new KubeProxyMetrics();
    const proxier = proxierWith(ipt, metrics);
    ipt.failNextSave = 1;
    const failed = await proxier.syncProxyRules();
    expect(failed).toMatchObject({ kind: 'full', ok: false });
    // The restore was fed the nat section up to the failed read, and no COMMIT: nothing applied.
    expect(ipt.restores).toHaveLength(1);
    expect(ipt.restores[0]).not.toContain('COMMIT');
    expect(ipt.userChains('nat').length).toBe(0);
    expect(
      await metrics.registry.getSingleMetricAsString(
        'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
      ),
    ).toMatch(/\{ip_family="IPv4"\} 1$/m);
    expect(await proxier.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    expect(ipt.userChains('nat').includes('KUBE-SERVICES')).toBe(true);
    await proxier.stop();
  });
});

describe('execIptables restoreStream', () => {
  it('streams into iptables-nft-restore --noflush --counters, widening the cache for a big payload', async () => {
    const sent: { file: string; args: readonly string[]; input: string }[] = [];
    const runner: CommandRunner = {
      async run(file, args, options = {}) {
        let input = '';
        const src = options.input;
        if (src && typeof src === 'object' && Symbol.asyncIterator in src) {
          for await (const c of src as AsyncIterable<string>) input += c;
        } else input = src?.toString() ?? '';
        sent.push({ file, args, input });
        return { stdout: '', stderr: '', exitCode: 0 };
      },
    };
    const exec = execIptables({ family: 'IPv4', client: new IptablesClient({ runner, backend: 'nft' }) });
    expect(exec.restoreStream).toBeDefined();
    const snapshot = snapshotOf(60, 10);
    const stream = new IptablesRuleCache(OPTIONS).streamFullSync(
      snapshot,
      Promise.resolve({ existingNatChains: [] }),
    );
    await exec.restoreStream!(stream.chunks, stream.expected, stream.tail);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.file).toBe('iptables-nft-restore');
    expect(sent[0]!.args).toEqual(expect.arrayContaining(['--noflush', '--counters']));
    // Only the big nat section is widened; the filter section after it is not.
    expect(sent[0]!.input.startsWith('*nat\n-S\n')).toBe(true);
    expect(sent[0]!.input.match(/^-S$/gm)).toHaveLength(1);
    expect(sent[0]!.input).toContain('*filter\n:KUBE-SERVICES - [0:0]\n');
    expect(sent[0]!.input.replace('\n-S\n', '\n')).toBe(stream.result().payload);
  });

  it('a producer failing mid-stream surfaces as InputAbortedError from a real process', async () => {
    // A real child (cat) stands in for iptables-restore: the runner kills it and reports why.
    const { localRunner } = await import('@nodeagent/netfilter');
    const runner: CommandRunner = { run: (_file, _args, options) => localRunner.run('cat', [], options) };
    const exec = execIptables({ family: 'IPv4', client: new IptablesClient({ runner, backend: 'legacy' }) });
    async function* broken() {
      yield '*nat\n:KUBE-SERVICES - [0:0]\n';
      throw new Error('render failed');
    }
    const err = await exec.restoreStream!(broken(), { chains: 1, rules: 0, builtinRules: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(InputAbortedError);
    expect((err as InputAbortedError).cause).toMatchObject({ message: 'render failed' });
  });
});
