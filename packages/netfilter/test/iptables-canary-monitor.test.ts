import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { monitorIptablesCanary } from '../src/iptables/index';
import { FakeIptables } from '../src/testing/index';

const CANARY = 'TEST-CANARY';
const TABLES = ['mangle', 'nat', 'filter'] as const;

/** A monitor every 60 s on FakeIptables; `tick` advances the clock and lets the monitor settle. */
function started(client: Pick<FakeIptables, 'ensureChain' | 'chainExists'> = new FakeIptables()) {
  const clock = new FakeClock();
  const logged: string[] = [];
  let reloads = 0;
  const monitor = monitorIptablesCanary({
    client,
    canary: CANARY,
    tables: TABLES,
    reload: () => {
      reloads++;
    },
    intervalMs: 60_000,
    clock,
    logger: {
      debug: (_o, msg) => logged.push(msg ?? ''),
      info: (_o, msg) => logged.push(msg ?? ''),
      error: (_o, msg) => logged.push(msg ?? ''),
    },
  });
  const tick = async (ms: number) => {
    await monitor.idle();
    await clock.advanceAsync(ms, () => monitor.idle());
  };
  return { monitor, tick, logged, reloads: () => reloads };
}

const drop = (ipt: FakeIptables, table: string) => ipt.restore(`*${table}\n-X ${CANARY}\nCOMMIT\n`);
const canaries = (ipt: FakeIptables) => TABLES.filter((t) => ipt.userChains(t).includes(CANARY));

describe('monitorIptablesCanary (utiliptables Monitor)', () => {
  it('makes the canaries, and once the first table’s is gone waits for the others before one reload', async () => {
    const ipt = new FakeIptables();
    const { monitor, tick, logged, reloads } = started(ipt);
    await tick(0);
    expect(canaries(ipt)).toEqual(['mangle', 'nat', 'filter']);
    await drop(ipt, 'mangle');
    await tick(60_000);
    expect(logged).toEqual(['IPTables canary deleted']);
    await tick(2_000);
    expect(reloads()).toBe(0);
    await drop(ipt, 'nat');
    await drop(ipt, 'filter');
    await tick(100);
    expect(reloads()).toBe(1);
    expect(logged).toEqual(['IPTables canary deleted', 'Reloading after iptables flush']);
    expect(canaries(ipt)).toEqual(['mangle', 'nat', 'filter']);
    monitor.stop();
  });

  it('reloads after 5 s when the others stay, naming the inconsistent state', async () => {
    const ipt = new FakeIptables();
    const { monitor, tick, logged, reloads } = started(ipt);
    await tick(0);
    await drop(ipt, 'mangle');
    await tick(60_000);
    await tick(4_900);
    expect(reloads()).toBe(0);
    await tick(100);
    expect(reloads()).toBe(1);
    expect(logged).toContain('Inconsistent iptables state detected');
    monitor.stop();
  });

  it('takes a check that fails for a canary still there, and logs it', async () => {
    const ipt = new FakeIptables();
    let failing = false;
    const client = {
      ensureChain: (table: (typeof TABLES)[number], chain: string) => ipt.ensureChain(table, chain),
      chainExists: async (table: (typeof TABLES)[number], chain: string) => {
        if (failing) throw new Error('iptables: Resource temporarily unavailable.');
        return ipt.chainExists(table, chain);
      },
    };
    const { monitor, tick, logged, reloads } = started(client);
    await tick(0);
    failing = true;
    await drop(ipt, 'mangle');
    await tick(60_000);
    expect(reloads()).toBe(0);
    expect(logged).toEqual(['Could not check for iptables canary']);
    monitor.stop();
  });

  it('does nothing more once stopped', async () => {
    const ipt = new FakeIptables();
    const { monitor, tick, reloads } = started(ipt);
    await tick(0);
    monitor.stop();
    await ipt.restore(TABLES.map((t) => `*${t}\n-X ${CANARY}\nCOMMIT\n`).join(''));
    await tick(120_000);
    expect(reloads()).toBe(0);
    expect(canaries(ipt)).toEqual([]);
  });
});
