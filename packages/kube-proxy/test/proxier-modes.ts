import { parseScript } from '@nodeagent/netfilter/nftables';
import { FakeIptables, FakeNftables } from '@nodeagent/netfilter/testing';
import type { FakeClock } from '@nodeagent/primitives';
import type { KubeProxyMetrics } from '../src/index';
import { IptablesProxier, iptablesExecutor } from '../src/iptables/index';
import { fakeKernel } from '../src/ipvs/fake-ipvs-kernel';
import { IpvsProxier } from '../src/ipvs/index';
import { NftablesProxier, type ProxierNftables } from '../src/nftables/index';

// One proxier of each mode on a fake kernel, for tests that hold every mode to one behaviour.

/** A proxier of one mode with what it wrote to its (fake) kernel. */
export interface ModeUnderTest {
  proxier: IptablesProxier | NftablesProxier | IpvsProxier;
  /** How many kernel writes the proxier has made. */
  writes(): number;
}

export function iptablesMode(clock: FakeClock, metrics: KubeProxyMetrics): ModeUnderTest {
  const ipt = new FakeIptables();
  const proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    executor: iptablesExecutor(ipt),
    clock,
    metrics,
  });
  return { proxier, writes: () => ipt.restores.length };
}

export function nftablesMode(clock: FakeClock, metrics: KubeProxyMetrics): ModeUnderTest {
  const kernel = new FakeNftables('ip', 'kube-proxy');
  let writes = 0;
  const nftables: ProxierNftables = {
    family: 'ip',
    table: 'kube-proxy',
    newTransaction: () => kernel.newTransaction(),
    check: (tx) => kernel.check(tx),
    list: () => kernel.list(),
    async run(tx) {
      writes++;
      await kernel.run(tx);
    },
    async runScript(script) {
      writes++;
      await kernel.run(parseScript(script, 'ip', 'kube-proxy'));
    },
  };
  const proxier = new NftablesProxier({ family: 'IPv4', nodeName: 'node-a', nftables, clock, metrics });
  return { proxier, writes: () => writes };
}

export function ipvsMode(clock: FakeClock, metrics: KubeProxyMetrics): ModeUnderTest {
  const kernel = fakeKernel();
  const proxier = new IpvsProxier({ family: 'IPv4', nodeName: 'node-a', kernel, clock, metrics });
  return {
    proxier,
    writes: () => kernel.ipvs.writes.length + kernel.iptablesKernel.restores.length,
  };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Fires every due timer of the proxier's clock (its runner's runs) and waits for the runs to end. */
export async function fireRunner(
  clock: FakeClock,
  proxier: ModeUnderTest['proxier'],
  ms: number,
): Promise<void> {
  // advanceAsync: each run ends before the clock moves on, so its end (from which the runner
  // counts minSyncPeriod, as upstream) is the time it fired, not the end of the advance.
  await clock.advanceAsync(ms, async () => {
    for (let i = 0; i < 5; i++) await flush();
    await proxier.whenIdle();
  });
}

/** The IPv4 proxier's sample of `name` (a histogram's count), 0 while the series has none. */
export async function metric(metrics: KubeProxyMetrics, name: string): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith(`${name}{ip_family="IPv4"} `) || l.startsWith(`${name}_count{ip_family="IPv4"} `),
    );
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}
