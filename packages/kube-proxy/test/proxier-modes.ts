import { parseScript, renderScript } from '@nodeagent/netfilter/nftables';
import { FakeIptables, FakeNftables } from '@nodeagent/netfilter/testing';
import type { FakeClock } from '@nodeagent/primitives';
import type { KubeProxyMetrics } from '../src/index';
import { IptablesProxier, iptablesExecutor } from '../src/iptables/index';
import { fakeKernel } from '../src/ipvs/fake-ipvs-kernel';
import { IpvsProxier } from '../src/ipvs/index';
import { NftablesProxier, type ProxierNftables } from '../src/nftables/index';
import type { ProxierBaseOptions } from '../src/shared/proxier-base';

// The proxier of each mode on a fake kernel (IPv4, node-a), one factory a mode, for every test
// that builds one: tests that hold every mode to one behaviour take the `...Mode(clock, metrics)`
// forms; the others pass what they need (periods, health, a write hook) to the factory itself.

/** A proxier's options besides its kernel, family and node name: clock, metrics, periods, health. */
export type FakeProxierOptions = Omit<ProxierBaseOptions, 'family' | 'nodeName'>;

/** A proxier of one mode with what it wrote to its (fake) kernel. */
export interface ModeUnderTest {
  proxier: IptablesProxier | NftablesProxier | IpvsProxier;
  /** How many kernel writes the proxier has made. */
  writes(): number;
}

/** An iptables proxier on FakeIptables; `failNextWrite()` fails its next iptables-restore. */
export function fakeIptablesProxier(options: FakeProxierOptions = {}) {
  const ipt = new FakeIptables();
  const proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    executor: iptablesExecutor(ipt),
    ...options,
  });
  return {
    proxier,
    ipt,
    writes: () => ipt.restores.length,
    failNextWrite: () => {
      ipt.failNextRestore = 1;
    },
  };
}

/** The kube-proxy table in FakeNftables behind the NftablesInterface a proxier takes. */
export interface FakeProxierNftables {
  kernel: FakeNftables;
  nftables: ProxierNftables;
  /** Every write, failed ones included, as nft would read it (a transaction rendered). */
  scripts: string[];
  /** How many of the next writes fail, as FakeIptables.failNextRestore. */
  failNextWrites: number;
}

/**
 * FakeNftables as a proxier's nftables: `runScript` parses a full-table script into it; each
 * write is recorded, then `beforeWrite` runs (a test's probe), then it fails if asked to.
 */
export function fakeNftables(beforeWrite: () => void = () => {}): FakeProxierNftables {
  const kernel = new FakeNftables('ip', 'kube-proxy');
  const fake: FakeProxierNftables = {
    kernel,
    scripts: [],
    failNextWrites: 0,
    nftables: {
      family: 'ip',
      table: 'kube-proxy',
      newTransaction: () => kernel.newTransaction(),
      check: (tx) => kernel.check(tx),
      list: () => kernel.list(),
      async run(tx) {
        write(renderScript('ip', 'kube-proxy', tx, { emulateDestroy: false }));
        await kernel.run(tx);
      },
      async runScript(script) {
        write(script);
        await kernel.run(parseScript(script, 'ip', 'kube-proxy'));
      },
    },
  };
  function write(script: string): void {
    fake.scripts.push(script);
    beforeWrite();
    if (fake.failNextWrites === 0) return;
    fake.failNextWrites--;
    throw new Error('nft: injected failure');
  }
  return fake;
}

/** An nftables proxier on fakeNftables() (or on the given fake); `failNextWrite()` fails its next write. */
export function fakeNftablesProxier(
  options: FakeProxierOptions & { eventLoopSliceMs?: number } = {},
  nft = fakeNftables(),
) {
  const proxier = new NftablesProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    nftables: nft.nftables,
    ...options,
  });
  return {
    proxier,
    nft,
    writes: () => nft.scripts.length,
    failNextWrite: () => {
      nft.failNextWrites = 1;
    },
  };
}

/** An ipvs proxier on the in-memory IPVS, ipset and iptables kernel. */
export function fakeIpvsProxier(options: FakeProxierOptions = {}) {
  const kernel = fakeKernel();
  const proxier = new IpvsProxier({ family: 'IPv4', nodeName: 'node-a', kernel, ...options });
  return {
    proxier,
    kernel,
    writes: () => kernel.ipvs.writes.length + kernel.iptablesKernel.restores.length,
  };
}

/** The iptables mode for a table of modes: its proxier on the test's clock and metrics. */
export const iptablesMode = (clock: FakeClock, metrics: KubeProxyMetrics): ModeUnderTest =>
  fakeIptablesProxier({ clock, metrics });
/** The nftables mode for a table of modes. */
export const nftablesMode = (clock: FakeClock, metrics: KubeProxyMetrics): ModeUnderTest =>
  fakeNftablesProxier({ clock, metrics });
/** The ipvs mode for a table of modes. */
export const ipvsMode = (clock: FakeClock, metrics: KubeProxyMetrics): ModeUnderTest =>
  fakeIpvsProxier({ clock, metrics });

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
