import { ApplyError } from '@nodeagent/netfilter';
import { InputAbortedError } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { FakeIptables } from '../src/testing/index';

// kube-proxy's FakeIptables maps the IptablesExecutor calls onto @nodeagent/netfilter's fake, so
// what that emulation refuses or keeps, this one does too.
describe('kube-proxy FakeIptables (over the netfilter fake)', () => {
  const svc = [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-A - [0:0]',
    '-A KUBE-SERVICES -d 10.0.0.1/32 -j KUBE-SVC-A',
    '-A KUBE-SVC-A -j DNAT --to-destination 10.1.0.5:8080',
    '-I PREROUTING -j KUBE-SERVICES',
    'COMMIT',
    '',
  ].join('\n');

  it('tracks user chains, rules in built-in chains and the whole state in dump()', async () => {
    const ipt = new FakeIptables();
    await ipt.restore(svc);
    expect([...ipt.chains.nat]).toEqual(['KUBE-SERVICES', 'KUBE-SVC-A']);
    expect(ipt.jumpRules).toEqual(['nat PREROUTING -j KUBE-SERVICES']);
    expect(ipt.dump('nat')).toContain('-A KUBE-SVC-A -j DNAT --to-destination 10.1.0.5:8080\n');
    // iptables-save lists the built-in chains too.
    expect(await ipt.listChains('nat')).toContain('PREROUTING');
    expect(ipt.payloads).toEqual([svc]);
  });

  it('applies a table all or nothing and refuses a jump to a missing chain', async () => {
    const ipt = new FakeIptables();
    await ipt.restore(svc);
    const before = ipt.dump();
    const bad = '*nat\n:KUBE-SVC-A - [0:0]\n-A KUBE-SVC-A -j KUBE-SEP-MISSING\nCOMMIT\n';
    await expect(ipt.restore(bad)).rejects.toBeInstanceOf(ApplyError);
    expect(ipt.dump()).toBe(before);
    // A redeclared chain is flushed: the rule in KUBE-SVC-A is gone.
    await ipt.restore('*nat\n:KUBE-SVC-A - [0:0]\nCOMMIT\n');
    expect(ipt.dump('nat')).not.toContain('-A KUBE-SVC-A');
  });

  it('refuses deleting a chain still jumped to, and deletes it once the jump is gone', async () => {
    const ipt = new FakeIptables();
    await ipt.restore(svc);
    await expect(ipt.deleteChain('nat', 'KUBE-SERVICES')).rejects.toBeInstanceOf(ApplyError);
    await ipt.deleteRule('nat', 'PREROUTING', ['-j', 'KUBE-SERVICES']);
    expect(ipt.jumpRules).toEqual([]);
    await ipt.deleteChain('nat', 'KUBE-SERVICES');
    expect(await ipt.chainExists('nat', 'KUBE-SERVICES')).toBe(false);
  });

  it('ensureRule inserts at the top once, and fails for a chain that does not exist', async () => {
    const ipt = new FakeIptables();
    await ipt.ensureChain('filter', 'KUBE-FIREWALL');
    await ipt.ensureRule('filter', 'INPUT', ['-j', 'ACCEPT']);
    await ipt.ensureRule('filter', 'INPUT', ['-j', 'KUBE-FIREWALL']);
    await ipt.ensureRule('filter', 'INPUT', ['-j', 'KUBE-FIREWALL']);
    expect(ipt.jumpRules).toEqual(['filter INPUT -j KUBE-FIREWALL', 'filter INPUT -j ACCEPT']);
    await expect(ipt.ensureRule('filter', 'NOPE', ['-j', 'ACCEPT'])).rejects.toBeInstanceOf(ApplyError);
  });

  it('a producer that throws mid-stream leaves the committed sections applied, as a killed tool does', async () => {
    const ipt = new FakeIptables();
    async function* chunks() {
      yield '*filter\n:KUBE-A - [0:0]\nCOMMIT\n';
      yield '*nat\n:KUBE-B - [0:0]\n';
      throw new Error('render failed');
    }
    await expect(ipt.restoreStream(chunks(), {})).rejects.toBeInstanceOf(InputAbortedError);
    expect(ipt.chains.filter.has('KUBE-A')).toBe(true);
    expect(ipt.chains.nat.has('KUBE-B')).toBe(false);
    expect(ipt.streamedChunks).toEqual([]);
  });
});
