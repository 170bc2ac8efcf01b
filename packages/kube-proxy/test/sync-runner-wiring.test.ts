import { parseScript } from '@nodeagent/netfilter/nftables';
import { FakeIptables, FakeNftables } from '@nodeagent/netfilter/testing';
import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { IptablesProxier, iptablesExecutor } from '../src/iptables/index';
import { fakeKernel } from '../src/ipvs/fake-ipvs-kernel';
import { IpvsProxier } from '../src/ipvs/index';
import { NftablesProxier, type ProxierNftables } from '../src/nftables/index';
import { service, slice } from './fixtures';

// How often each mode syncs when nothing changes, as upstream v1.36 wires its runner
// (runner.NewBoundedFrequencyRunner(name, fn, minInterval, retryInterval, maxInterval)):
// iptables and nftables pass (minSyncPeriod, syncPeriod, proxyutil.FullSyncPeriod = 1 h), so a
// quiet node syncs once an hour, a full sync, and syncPeriod is only the retry after a failed
// sync (pkg/proxy/iptables/proxier.go and pkg/proxy/nftables/proxier.go, NewProxier); ipvs
// passes syncPeriod as its maxInterval again since kubernetes/kubernetes#135631 (v1.36).

const SYNC_PERIOD_MS = 30_000;
const HOUR_MS = 3_600_000;
type Proxier = IptablesProxier | NftablesProxier | IpvsProxier;

function nftablesProxier(clock: FakeClock, fail: { next: boolean }): Proxier {
  const kernel = new FakeNftables('ip', 'kube-proxy');
  const write = async (apply: () => Promise<void>) => {
    if (fail.next) {
      fail.next = false;
      throw new Error('injected nft failure');
    }
    await apply();
  };
  const nftables: ProxierNftables = {
    family: 'ip',
    table: 'kube-proxy',
    newTransaction: () => kernel.newTransaction(),
    check: (tx) => kernel.check(tx),
    list: () => kernel.list(),
    run: (tx) => write(() => kernel.run(tx)),
    runScript: (script) => write(() => kernel.run(parseScript(script, 'ip', 'kube-proxy'))),
  };
  return new NftablesProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    nftables,
    clock,
    syncPeriodMs: SYNC_PERIOD_MS,
  });
}

function iptablesProxier(clock: FakeClock, fail: { next: boolean }): Proxier {
  const exec = iptablesExecutor(new FakeIptables());
  const restore = exec.restore.bind(exec);
  exec.restore = async (payload) => {
    if (fail.next) {
      fail.next = false;
      throw new Error('injected iptables-restore failure');
    }
    await restore(payload);
  };
  return new IptablesProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    executor: exec,
    clock,
    syncPeriodMs: SYNC_PERIOD_MS,
  });
}

function ipvsProxier(clock: FakeClock): Proxier {
  return new IpvsProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    kernel: fakeKernel(),
    clock,
    syncPeriodMs: SYNC_PERIOD_MS,
  });
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Moves the clock on, letting each run the runner starts finish before time moves further. */
async function advance(clock: FakeClock, proxier: Proxier, ms: number): Promise<void> {
  await clock.advanceAsync(ms, async () => {
    for (let i = 0; i < 5; i++) await flush();
    await proxier.whenIdle();
  });
}

/** Starts the proxier on one Service with one endpoint and runs its first (full) sync. */
async function started(clock: FakeClock, proxier: Proxier): Promise<void> {
  proxier.start();
  proxier.onServiceAdd(service('web', { clusterIP: '10.96.0.10' }));
  proxier.onEndpointSliceAdd(slice('web', [{ ip: '10.244.1.1', node: 'node-b' }]));
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  await advance(clock, proxier, 0);
  expect(proxier.history).toMatchObject([{ kind: 'full', ok: true }]);
}

describe.each([
  ['nftables', nftablesProxier],
  ['iptables', iptablesProxier],
] as const)('%s mode: the runner as upstream v1.36 wires it', (_mode, make) => {
  it('syncs a quiet node once an hour (a full sync), not every syncPeriod', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const proxier = make(clock, { next: false });
    await started(clock, proxier);
    // Old wiring (maxInterval = syncPeriod): a sync at 30 s, 60 s, ... Upstream: none before 1 h.
    for (let t = 0; t < HOUR_MS - SYNC_PERIOD_MS; t += SYNC_PERIOD_MS)
      await advance(clock, proxier, SYNC_PERIOD_MS);
    expect(proxier.history).toHaveLength(1);
    await advance(clock, proxier, SYNC_PERIOD_MS);
    expect(proxier.history).toMatchObject([
      { kind: 'full', ok: true },
      { kind: 'full', ok: true },
    ]);
    await proxier.stop();
  });

  it('retries a failed sync after syncPeriod', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const fail = { next: false };
    const proxier = make(clock, fail);
    await started(clock, proxier);
    await advance(clock, proxier, 5_000);
    fail.next = true;
    proxier.onEndpointSliceUpdate(
      slice('web', [{ ip: '10.244.1.1', node: 'node-b' }]),
      slice('web', [{ ip: '10.244.1.2', node: 'node-b' }]),
    );
    await advance(clock, proxier, 0);
    expect(proxier.history.at(-1)).toMatchObject({ ok: false });
    expect(proxier.history).toHaveLength(2);
    await advance(clock, proxier, SYNC_PERIOD_MS - 1);
    expect(proxier.history).toHaveLength(2);
    await advance(clock, proxier, 1);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'full', ok: true });
    expect(proxier.history).toHaveLength(3);
    await proxier.stop();
  });
});

describe('ipvs mode: the runner as upstream v1.36 wires it', () => {
  it('still syncs every syncPeriod without changes (kubernetes/kubernetes#135631)', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const proxier = ipvsProxier(clock);
    await started(clock, proxier);
    for (let i = 0; i < 3; i++) await advance(clock, proxier, SYNC_PERIOD_MS);
    expect(proxier.history).toHaveLength(4);
    await proxier.stop();
  });
});
