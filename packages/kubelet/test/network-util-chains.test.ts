import type { IptablesInterface } from '@nodeagent/netfilter';
import { FakeIptables } from '@nodeagent/netfilter/testing';
import { CommandNotFoundError, FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { KubeletLogger } from '../src/kubelet-logger';
import { initNetworkUtil } from '../src/network/init-network-util';
import { syncIPTablesRules } from '../src/network/iptables-util-chains';

interface Line {
  level: 'info' | 'warn' | 'error';
  fields: object;
  msg: string | undefined;
}

function recordingLogger(): KubeletLogger & { lines: Line[] } {
  const lines: Line[] = [];
  const push = (level: Line['level']) => (fields: object, msg?: string) => lines.push({ level, fields, msg });
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

// filter's rules of the fake, in iptables-save form.
const filterRules = (fake: FakeIptables) =>
  fake
    .dump('filter')
    .split('\n')
    .filter((line) => line.startsWith('-A '));

const LOCALNET =
  '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" --dst 127.0.0.0/8 ! --src 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP';

async function started(fakes: IptablesInterface[]) {
  const clock = new FakeClock();
  const logger = recordingLogger();
  const util = await initNetworkUtil({ clock, logger, clients: fakes });
  await Promise.all(util.monitors.map((monitor) => monitor.idle()));
  return { clock, logger, util };
}

describe('initNetworkUtil (makeIPTablesUtilChains)', () => {
  it('IPv4: hint chain, KUBE-FIREWALL jumped to from the top of OUTPUT and INPUT, the localnet DROP rule, canaries', async () => {
    const v4 = new FakeIptables('ipv4');
    v4.load('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n');
    const { logger, util } = await started([v4]);
    expect(filterRules(v4)).toEqual([
      '-A INPUT -j KUBE-FIREWALL',
      '-A INPUT -j ACCEPT',
      '-A OUTPUT -j KUBE-FIREWALL',
      LOCALNET,
    ]);
    for (const table of ['mangle', 'nat', 'filter'] as const) {
      expect(await v4.chainExists(table, 'KUBE-KUBELET-CANARY'), table).toBe(true);
    }
    expect(await v4.chainExists('mangle', 'KUBE-IPTABLES-HINT')).toBe(true);
    // No chain of the pre-KEP-3178 kubelet.
    expect(v4.dump()).not.toMatch(/KUBE-MARK-DROP|KUBE-MARK-MASQ|KUBE-POSTROUTING/);
    expect(logger.lines).toEqual([
      { level: 'info', fields: { protocol: 'IPv4' }, msg: 'Initialized iptables rules.' },
    ]);
    util.stop();
  });

  it('IPv6: only the hint chain and the canaries (no KUBE-FIREWALL)', async () => {
    const v4 = new FakeIptables('ipv4');
    const v6 = new FakeIptables('ipv6');
    const { logger, util } = await started([v4, v6]);
    expect(await v6.chainExists('mangle', 'KUBE-IPTABLES-HINT')).toBe(true);
    expect(await v6.chainExists('filter', 'KUBE-FIREWALL')).toBe(false);
    expect(filterRules(v6)).toEqual([]);
    expect(await v6.chainExists('nat', 'KUBE-KUBELET-CANARY')).toBe(true);
    expect(logger.lines.map((line) => [line.msg, line.fields])).toEqual([
      ['Initialized iptables rules.', { protocol: 'IPv4' }],
      ['Initialized iptables rules.', { protocol: 'IPv6' }],
    ]);
    util.stop();
  });

  it('a second sync adds nothing', async () => {
    const v4 = new FakeIptables('ipv4');
    const logger = recordingLogger();
    expect(await syncIPTablesRules(v4, logger)).toBe(true);
    const once = v4.dump();
    expect(await syncIPTablesRules(v4, logger)).toBe(true);
    expect(v4.dump()).toBe(once);
  });

  it('re-creates the rules within a minute of a flush that took the canary', async () => {
    const v4 = new FakeIptables('ipv4');
    const { clock, util } = await started([v4]);
    const [monitor] = util.monitors;
    v4.load('');
    clock.advance(59_999);
    expect(filterRules(v4)).toEqual([]);
    clock.advance(1);
    await monitor?.idle();
    expect(filterRules(v4)).toEqual(['-A INPUT -j KUBE-FIREWALL', '-A OUTPUT -j KUBE-FIREWALL', LOCALNET]);
    expect(await v4.chainExists('filter', 'KUBE-KUBELET-CANARY')).toBe(true);
    util.stop();
  });

  it('leaves a rule deleted while the canary stays (only a flush is noticed)', async () => {
    const v4 = new FakeIptables('ipv4');
    const { clock, util } = await started([v4]);
    await v4.deleteRule('filter', 'INPUT', ['-j', 'KUBE-FIREWALL']);
    clock.advance(60_000);
    await util.monitors[0]?.idle();
    expect(filterRules(v4)).toEqual(['-A OUTPUT -j KUBE-FIREWALL', LOCALNET]);
    util.stop();
  });

  it('waits up to 5 s for the other canaries, then logs the inconsistency and reloads', async () => {
    const v4 = new FakeIptables('ipv4');
    const { clock, logger, util } = await started([v4]);
    const [monitor] = util.monitors;
    await v4.deleteChain('mangle', 'KUBE-KUBELET-CANARY');
    await v4.deleteRule('filter', 'OUTPUT', ['-j', 'KUBE-FIREWALL']);
    clock.advance(60_000);
    await monitor?.idle();
    for (let ms = 0; ms < 4_900; ms += 100) {
      clock.advance(100);
      await monitor?.idle();
    }
    expect(logger.lines.map((line) => line.msg)).not.toContain('Inconsistent iptables state detected');
    clock.advance(100);
    await monitor?.idle();
    expect(logger.lines.at(-1)).toEqual({
      level: 'info',
      fields: {},
      msg: 'Inconsistent iptables state detected',
    });
    expect(filterRules(v4)).toContain('-A OUTPUT -j KUBE-FIREWALL');
    expect(await v4.chainExists('mangle', 'KUBE-KUBELET-CANARY')).toBe(true);
    util.stop();
  });

  it('no iptables binary: one info line naming it, no monitor', async () => {
    const missing = (family: 'ipv4' | 'ipv6', command: string) =>
      Object.assign(new FakeIptables(family), {
        chainExists: () => Promise.reject(new CommandNotFoundError(command)),
      });
    const { logger, util } = await started([missing('ipv4', 'iptables'), missing('ipv6', 'ip6tables')]);
    expect(util.monitors).toEqual([]);
    expect(logger.lines).toEqual([
      {
        level: 'info',
        fields: {
          err:
            'CommandNotFoundError: iptables: executable file not found in $PATH (install the Debian package "iptables"); ' +
            'CommandNotFoundError: ip6tables: executable file not found in $PATH (install the Debian package "iptables")',
        },
        msg: 'No iptables support on this system; not creating the KUBE-IPTABLES-HINT chain',
      },
    ]);
  });

  it('a family whose nat table is missing is skipped silently (NewBestEffort)', async () => {
    const v4 = new FakeIptables('ipv4');
    const noV6 = Object.assign(new FakeIptables('ipv6'), { chainExists: async () => false });
    const { logger, util } = await started([v4, noV6]);
    expect(util.monitors).toHaveLength(1);
    expect(logger.lines.map((line) => line.fields)).toEqual([{ protocol: 'IPv4' }]);
    util.stop();
  });

  it('a failing step: upstream ErrorS text, then "Failed to initialize", no monitor', async () => {
    const v4 = Object.assign(new FakeIptables('ipv4'), {
      ensureRule: async (_p: string, _t: string, chain: string) => {
        if (chain === 'INPUT') throw new Error('iptables: Resource temporarily unavailable.');
        return true;
      },
    });
    const { logger, util } = await started([v4]);
    expect(util.monitors).toEqual([]);
    expect(logger.lines).toEqual([
      {
        level: 'error',
        fields: { err: 'Error: iptables: Resource temporarily unavailable.' },
        msg: 'Failed to ensure that INPUT chain jumps to KUBE-FIREWALL',
      },
      {
        level: 'info',
        fields: { protocol: 'IPv4' },
        msg: 'Failed to initialize iptables rules; some functionality may be missing.',
      },
    ]);
  });
});
