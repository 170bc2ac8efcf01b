import { FakeIptables } from '@nodeagent/netfilter/testing';
import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { IptablesProxier, iptablesExecutor } from '../src/iptables/index';
import { service, slice } from './fixtures';
import { fireRunner } from './proxier-modes';

const PORTALS_JUMP = 'nat PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES';

/**
 * An iptables proxier on FakeIptables with one Service, synced once. `flushAfterNextRead` wipes
 * every table right after the next full sync's iptables-save, before its restore: a firewalld
 * reload racing the sync.
 */
async function synced() {
  const clock = new FakeClock(1_700_000_000_000);
  const ipt = new FakeIptables();
  const logged: string[] = [];
  const base = iptablesExecutor(ipt);
  let flushAfterNextRead = false;
  const proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    clock,
    syncPeriodMs: 30_000,
    logger: {
      debug: (_o, msg) => logged.push(msg ?? ''),
      info: (_o, msg) => logged.push(msg ?? ''),
      warn: (_o, msg) => logged.push(msg ?? ''),
      error() {},
    },
    executor: {
      ...base,
      async saveTable(table) {
        const text = await base.saveTable(table);
        if (flushAfterNextRead) {
          flushAfterNextRead = false;
          ipt.load('');
        }
        return text;
      },
    },
  });
  /** Lets timers due within `ms` fire, each with the async work it starts. */
  const tick = (ms: number) => fireRunner(clock, proxier, ms);
  proxier.onServiceAdd(service('web'));
  proxier.onEndpointSliceAdd(slice('web', [{ ip: '10.244.1.1' }]));
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  proxier.start();
  await tick(0);
  const fullSyncs = () => proxier.history.filter((h) => h.kind === 'full' && h.ok).length;
  const canaries = () =>
    (['mangle', 'nat', 'filter'] as const).filter((t) => ipt.userChains(t).includes('KUBE-PROXY-CANARY'));
  const dropCanary = (table: string) => ipt.restore(`*${table}\n-X KUBE-PROXY-CANARY\nCOMMIT\n`);
  return {
    ipt,
    proxier,
    tick,
    logged,
    fullSyncs,
    canaries,
    dropCanary,
    flushAfterNextRead: () => {
      flushAfterNextRead = true;
    },
  };
}

describe('iptables canary (upstream utiliptables Monitor)', () => {
  it('once the mangle canary is gone, waits for the others to go before one full sync, then makes them again', async () => {
    const { proxier, tick, fullSyncs, canaries, dropCanary, logged } = await synced();
    expect(fullSyncs()).toBe(1);
    expect(canaries()).toEqual(['mangle', 'nat', 'filter']);
    await dropCanary('mangle');
    await tick(30_000); // the check: mangle's is gone, nat's and filter's are not yet
    expect(logged).toContain('IPTables canary deleted');
    await tick(1000);
    expect(fullSyncs()).toBe(1);
    await dropCanary('nat');
    await dropCanary('filter');
    await tick(100); // the next poll finds them all gone
    expect(logged).toContain('Reloading after iptables flush');
    expect(fullSyncs()).toBe(2);
    expect(canaries()).toEqual(['mangle', 'nat', 'filter']);
    expect(logged).not.toContain('Inconsistent iptables state detected');
    await proxier.stop();
  });

  it('reloads after 5 s when the other canaries stay, saying the state is inconsistent', async () => {
    const { proxier, tick, fullSyncs, canaries, dropCanary, logged } = await synced();
    await dropCanary('mangle');
    await tick(30_000);
    await tick(4800);
    expect(fullSyncs()).toBe(1);
    await tick(300);
    expect(logged).toContain('Inconsistent iptables state detected');
    expect(fullSyncs()).toBe(2);
    expect(canaries()).toEqual(['mangle', 'nat', 'filter']);
    await proxier.stop();
  });

  it('checks only the first table, as upstream: a nat canary deleted alone is not a flush', async () => {
    const { proxier, tick, fullSyncs, canaries, dropCanary } = await synced();
    await dropCanary('nat');
    await tick(30_000);
    await tick(30_000);
    expect(fullSyncs()).toBe(1);
    expect(canaries()).toEqual(['mangle', 'filter']);
    await proxier.stop();
  });

  it('a flush between a full sync’s read and its restore leaves the canaries gone, so the next check repairs the jumps', async () => {
    const { ipt, proxier, tick, fullSyncs, canaries, flushAfterNextRead } = await synced();
    expect(ipt.builtinChainRules()).toContain(PORTALS_JUMP);
    flushAfterNextRead();
    proxier.forceFullSync();
    await tick(1000);
    expect(fullSyncs()).toBe(2);
    // The sync read the jumps before the flush: it wrote its chains again, not them.
    expect(ipt.builtinChainRules()).not.toContain(PORTALS_JUMP);
    expect(canaries()).toEqual([]);
    await tick(30_000);
    expect(fullSyncs()).toBe(3);
    expect(ipt.builtinChainRules()).toContain(PORTALS_JUMP);
    expect(canaries()).toEqual(['mangle', 'nat', 'filter']);
    await proxier.stop();
  });
});
