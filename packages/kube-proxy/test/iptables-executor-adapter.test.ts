import { ApplyError } from '@nodeagent/netfilter';
import { FakeIptables } from '@nodeagent/netfilter/testing';
import { InputAbortedError } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { iptablesExecutor } from '../src/iptables/index';

// iptablesExecutor maps the proxiers' calls onto @nodeagent/netfilter's IptablesInterface; over
// its FakeIptables, what that emulation refuses or keeps, the executor does too.
describe('iptablesExecutor over the netfilter FakeIptables', () => {
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

  it('restores without validation, lists chains (built-in ones too) and saves tables', async () => {
    const kernel = new FakeIptables();
    const ipt = iptablesExecutor(kernel);
    await ipt.restore(svc);
    expect(kernel.userChains('nat')).toEqual(['KUBE-SERVICES', 'KUBE-SVC-A']);
    expect(kernel.builtinChainRules()).toEqual(['nat PREROUTING -j KUBE-SERVICES']);
    expect(await ipt.saveTable('nat')).toContain('-A KUBE-SVC-A -j DNAT --to-destination 10.1.0.5:8080\n');
    // iptables-save lists the built-in chains too.
    expect(await ipt.listChains('nat')).toContain('PREROUTING');
    expect(kernel.restores).toEqual([svc]);
    // A partial payload jumps to chains it does not declare: only the kernel's own checks apply.
    await ipt.restore('*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-SVC-A\nCOMMIT\n');
    expect(await ipt.chainExists('nat', 'KUBE-SVC-A')).toBe(true);
  });

  it('applies a table all or nothing and refuses a jump to a missing chain', async () => {
    const kernel = new FakeIptables();
    const ipt = iptablesExecutor(kernel);
    await ipt.restore(svc);
    const before = kernel.dump();
    const bad = '*nat\n:KUBE-SVC-A - [0:0]\n-A KUBE-SVC-A -j KUBE-SEP-MISSING\nCOMMIT\n';
    await expect(ipt.restore(bad)).rejects.toBeInstanceOf(ApplyError);
    expect(kernel.dump()).toBe(before);
    // A redeclared chain is flushed: the rule in KUBE-SVC-A is gone.
    await ipt.restore('*nat\n:KUBE-SVC-A - [0:0]\nCOMMIT\n');
    expect(kernel.dump('nat')).not.toContain('-A KUBE-SVC-A');
  });

  it('refuses deleting a chain still jumped to, and deletes it once the jump is gone', async () => {
    const kernel = new FakeIptables();
    const ipt = iptablesExecutor(kernel);
    await ipt.restore(svc);
    await expect(ipt.deleteChain('nat', 'KUBE-SERVICES')).rejects.toBeInstanceOf(ApplyError);
    await ipt.deleteRule('nat', 'PREROUTING', ['-j', 'KUBE-SERVICES']);
    expect(kernel.builtinChainRules()).toEqual([]);
    await ipt.deleteChain('nat', 'KUBE-SERVICES');
    expect(await ipt.chainExists('nat', 'KUBE-SERVICES')).toBe(false);
    // Deleting what is not there is not an error (--cleanup on a clean node).
    await ipt.deleteChain('nat', 'KUBE-SERVICES');
    await ipt.deleteRule('nat', 'PREROUTING', ['-j', 'KUBE-SERVICES']);
  });

  it('ensureRule inserts at the top once, and fails for a chain that does not exist', async () => {
    const kernel = new FakeIptables();
    const ipt = iptablesExecutor(kernel);
    await ipt.ensureChain('filter', 'KUBE-FIREWALL');
    await ipt.ensureChain('filter', 'KUBE-FIREWALL');
    await ipt.ensureRule('filter', 'INPUT', ['-j', 'ACCEPT']);
    await ipt.ensureRule('filter', 'INPUT', ['-j', 'KUBE-FIREWALL']);
    await ipt.ensureRule('filter', 'INPUT', ['-j', 'KUBE-FIREWALL']);
    expect(kernel.builtinChainRules()).toEqual(['filter INPUT -j KUBE-FIREWALL', 'filter INPUT -j ACCEPT']);
    await expect(ipt.ensureRule('filter', 'NOPE', ['-j', 'ACCEPT'])).rejects.toBeInstanceOf(ApplyError);
  });

  it('a producer that throws mid-stream leaves the committed sections applied, as a killed tool does', async () => {
    const kernel = new FakeIptables();
    const ipt = iptablesExecutor(kernel);
    async function* chunks() {
      yield '*filter\n:KUBE-A - [0:0]\nCOMMIT\n';
      yield '*nat\n:KUBE-B - [0:0]\n';
      throw new Error('render failed');
    }
    await expect(
      ipt.restoreStream!(chunks(), { chains: 2, rules: 0, builtinRules: 0 }),
    ).rejects.toBeInstanceOf(InputAbortedError);
    expect(kernel.userChains('filter')).toEqual(['KUBE-A']);
    expect(kernel.userChains('nat')).toEqual([]);
    expect(kernel.streams).toEqual([]);
  });

  it('streams the payload, then the tail, in one restore', async () => {
    const kernel = new FakeIptables();
    const ipt = iptablesExecutor(kernel);
    async function* chunks() {
      yield '*nat\n:KUBE-SERVICES - [0:0]\n';
      yield 'COMMIT\n';
    }
    await ipt.restoreStream!(
      chunks(),
      { chains: 1, rules: 0, builtinRules: 0 },
      () => '*nat\n-I PREROUTING -j KUBE-SERVICES\nCOMMIT\n',
    );
    expect(kernel.streams).toEqual([2]);
    expect(kernel.builtinChainRules()).toEqual(['nat PREROUTING -j KUBE-SERVICES']);
  });
});
