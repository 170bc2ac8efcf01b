import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { service, slice } from './fixtures';
import {
  fakeIptablesProxier,
  fakeIpvsProxier,
  fakeNftablesProxier,
  fireRunner,
  type ModeUnderTest,
} from './proxier-modes';

// How often each mode syncs when nothing changes, as upstream v1.36 wires its runner
// (runner.NewBoundedFrequencyRunner(name, fn, minInterval, retryInterval, maxInterval)):
// iptables and nftables pass (minSyncPeriod, syncPeriod, proxyutil.FullSyncPeriod = 1 h), so a
// quiet node syncs once an hour, a full sync, and syncPeriod is only the retry after a failed
// sync (pkg/proxy/iptables/proxier.go and pkg/proxy/nftables/proxier.go, NewProxier); ipvs
// passes syncPeriod as its maxInterval again since kubernetes/kubernetes#135631 (v1.36).

const SYNC_PERIOD_MS = 30_000;
const HOUR_MS = 3_600_000;
type Proxier = ModeUnderTest['proxier'];

/** Starts the proxier on one Service with one endpoint and runs its first (full) sync. */
async function started(clock: FakeClock, proxier: Proxier): Promise<void> {
  proxier.start();
  proxier.onServiceAdd(service('web', { clusterIP: '10.96.0.10' }));
  proxier.onEndpointSliceAdd(slice('web', [{ ip: '10.244.1.1', node: 'node-b' }]));
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  await fireRunner(clock, proxier, 0);
  expect(proxier.history).toMatchObject([{ kind: 'full', ok: true }]);
}

describe.each([
  ['nftables', fakeNftablesProxier],
  ['iptables', fakeIptablesProxier],
] as const)('%s mode: the runner as upstream v1.36 wires it', (_mode, make) => {
  it('syncs a quiet node once an hour (a full sync), not every syncPeriod', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const { proxier } = make({ clock, syncPeriodMs: SYNC_PERIOD_MS });
    await started(clock, proxier);
    // Old wiring (maxInterval = syncPeriod): a sync at 30 s, 60 s, ... Upstream: none before 1 h.
    for (let t = 0; t < HOUR_MS - SYNC_PERIOD_MS; t += SYNC_PERIOD_MS)
      await fireRunner(clock, proxier, SYNC_PERIOD_MS);
    expect(proxier.history).toHaveLength(1);
    await fireRunner(clock, proxier, SYNC_PERIOD_MS);
    expect(proxier.history).toMatchObject([
      { kind: 'full', ok: true },
      { kind: 'full', ok: true },
    ]);
    await proxier.stop();
  });

  it('retries a failed sync after syncPeriod', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const { proxier, failNextWrite } = make({ clock, syncPeriodMs: SYNC_PERIOD_MS });
    await started(clock, proxier);
    await fireRunner(clock, proxier, 5_000);
    failNextWrite();
    proxier.onEndpointSliceUpdate(
      slice('web', [{ ip: '10.244.1.1', node: 'node-b' }]),
      slice('web', [{ ip: '10.244.1.2', node: 'node-b' }]),
    );
    await fireRunner(clock, proxier, 0);
    expect(proxier.history.at(-1)).toMatchObject({ ok: false });
    expect(proxier.history).toHaveLength(2);
    await fireRunner(clock, proxier, SYNC_PERIOD_MS - 1);
    expect(proxier.history).toHaveLength(2);
    await fireRunner(clock, proxier, 1);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'full', ok: true });
    expect(proxier.history).toHaveLength(3);
    await proxier.stop();
  });
});

describe('ipvs mode: the runner as upstream v1.36 wires it', () => {
  it('still syncs every syncPeriod without changes (kubernetes/kubernetes#135631)', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const { proxier } = fakeIpvsProxier({ clock, syncPeriodMs: SYNC_PERIOD_MS });
    await started(clock, proxier);
    for (let i = 0; i < 3; i++) await fireRunner(clock, proxier, SYNC_PERIOD_MS);
    expect(proxier.history).toHaveLength(4);
    await proxier.stop();
  });
});
