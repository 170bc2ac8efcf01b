import { describe, expect, it } from 'vitest';
import { ApplyError, InputAbortedError } from '../src/index';
import { FakeIptables } from '../src/testing/index';

const svcPayload = [
  '*nat',
  ':KUBE-SERVICES - [0:0]',
  ':KUBE-SVC-A - [0:0]',
  '-A KUBE-SERVICES -d 10.0.0.1/32 -p tcp -m tcp --dport 80 -m comment --comment "ns/a:http" -j KUBE-SVC-A',
  '-A KUBE-SVC-A -j DNAT --to-destination 10.1.0.5:8080',
  'COMMIT',
  '',
].join('\n');

describe('FakeIptables', () => {
  it('applies a restore payload and dumps it in iptables-save form', async () => {
    const fake = new FakeIptables();
    await fake.restore(svcPayload);
    expect(fake.dump()).toBe(
      [
        '*nat',
        ':PREROUTING ACCEPT [0:0]',
        ':INPUT ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':POSTROUTING ACCEPT [0:0]',
        ':KUBE-SERVICES - [0:0]',
        ':KUBE-SVC-A - [0:0]',
        '-A KUBE-SERVICES -d 10.0.0.1/32 -p tcp -m tcp --dport 80 -m comment --comment ns/a:http -j KUBE-SVC-A',
        '-A KUBE-SVC-A -j DNAT --to-destination 10.1.0.5:8080',
        'COMMIT',
        '',
      ].join('\n'),
    );
    const saved = await fake.save('nat');
    expect(saved.tables[0]?.chains.map((c) => c.name)).toContain('KUBE-SVC-A');
  });

  it('flushes a redeclared user chain, as --noflush does, and keeps undeclared ones', async () => {
    const fake = new FakeIptables();
    await fake.restore(svcPayload);
    await fake.restore(
      '*nat\n:KUBE-SVC-A - [0:0]\n-A KUBE-SVC-A -j DNAT --to-destination 10.1.0.6:8080\nCOMMIT\n',
    );
    const text = await fake.saveText('nat');
    expect(text).toContain('-A KUBE-SVC-A -j DNAT --to-destination 10.1.0.6:8080');
    expect(text).not.toContain('10.1.0.5');
    expect(text).toContain('-A KUBE-SERVICES');
  });

  it('applies nothing of a section whose line fails, and names the line', async () => {
    const fake = new FakeIptables();
    const bad = '*nat\n:KUBE-SVC-B - [0:0]\n-A KUBE-SVC-B -j KUBE-SEP-MISSING\nCOMMIT\n';
    const error = await fake.restore(bad, { validate: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplyError);
    expect((error as ApplyError).line).toBe(3);
    expect((error as ApplyError).lineText).toBe('-A KUBE-SVC-B -j KUBE-SEP-MISSING');
    expect(fake.dump()).toBe('');
  });

  it('refuses to delete a chain that is still jumped to', async () => {
    const fake = new FakeIptables();
    await fake.restore(svcPayload);
    await expect(fake.restore('*nat\n-F KUBE-SVC-A\n-X KUBE-SVC-A\nCOMMIT\n')).rejects.toThrow(
      /referenced by KUBE-SERVICES/,
    );
    await fake.restore('*nat\n-F KUBE-SERVICES\n-F KUBE-SVC-A\n-X KUBE-SVC-A\nCOMMIT\n');
    expect(fake.dump()).not.toContain('KUBE-SVC-A');
  });

  it('ensureRule adds a rule once, at the top or the end', async () => {
    const fake = new FakeIptables();
    await fake.ensureChain('filter', 'KUBE-FIREWALL');
    const jump = { matches: [], target: { kind: 'jump', chain: 'KUBE-FIREWALL' } } as const;
    expect(await fake.ensureRule('prepend', 'filter', 'INPUT', jump)).toBe(true);
    expect(await fake.ensureRule('prepend', 'filter', 'INPUT', jump)).toBe(false);
    expect(await fake.saveText('filter')).toContain('-A INPUT -j KUBE-FIREWALL');
  });

  it('takes a rule as an argument vector, deletes every copy and refuses what iptables would', async () => {
    const fake = new FakeIptables();
    const jump = ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'];
    // No KUBE-SERVICES chain yet: iptables refuses a jump to it.
    await expect(fake.ensureRule('prepend', 'nat', 'PREROUTING', jump)).rejects.toBeInstanceOf(ApplyError);
    expect(await fake.chainExists('nat', 'KUBE-SERVICES')).toBe(false);
    await fake.ensureChain('nat', 'KUBE-SERVICES');
    expect(await fake.chainExists('nat', 'KUBE-SERVICES')).toBe(true);
    expect(fake.userChains('nat')).toEqual(['KUBE-SERVICES']);
    expect(await fake.ensureRule('prepend', 'nat', 'PREROUTING', jump)).toBe(true);
    expect(await fake.ensureRule('append', 'nat', 'PREROUTING', jump)).toBe(false);
    expect(fake.builtinChainRules()).toEqual([
      'nat PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ]);
    // Still jumped to: the chain cannot go.
    await expect(fake.deleteChain('nat', 'KUBE-SERVICES')).rejects.toThrow(/referenced by PREROUTING/);
    await fake.restore(
      '*nat\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT\n',
      { validate: false },
    );
    expect(await fake.deleteRule('nat', 'PREROUTING', jump)).toBe(true);
    expect(fake.builtinChainRules()).toEqual([]);
    expect(await fake.deleteRule('nat', 'PREROUTING', jump)).toBe(false);
    expect(await fake.deleteRule('nat', 'NO-SUCH-CHAIN', jump)).toBe(false);
    expect(await fake.deleteChain('nat', 'KUBE-SERVICES')).toBe(true);
    expect(await fake.deleteChain('nat', 'KUBE-SERVICES')).toBe(false);
    expect(fake.userChains('nat')).toEqual([]);
    // Single-rule commands are not restores.
    expect(fake.restores).toHaveLength(1);
  });

  it('fails injected restores and saves without applying, and counts the chunks of each stream', async () => {
    const fake = new FakeIptables();
    fake.failNextRestore = 1;
    await expect(fake.restore(svcPayload)).rejects.toBeInstanceOf(ApplyError);
    expect(fake.dump()).toBe('');
    expect(fake.restores).toEqual([svcPayload]);
    fake.failNextRestore = 1;
    async function* twoChunks() {
      yield svcPayload.slice(0, 20);
      yield svcPayload.slice(20);
    }
    await expect(fake.restoreStream(twoChunks())).rejects.toBeInstanceOf(ApplyError);
    expect(fake.dump()).toBe('');
    await fake.restoreStream(twoChunks(), { unwidenedTail: () => '*filter\n:KUBE-X - [0:0]\nCOMMIT\n' });
    expect(fake.streams).toEqual([2, 2]);
    expect(fake.userChains('filter')).toEqual(['KUBE-X']);
    expect(fake.restores.at(-1)).toBe(`${svcPayload}*filter\n:KUBE-X - [0:0]\nCOMMIT\n`);
    fake.failNextSave = 1;
    await expect(fake.saveText('nat')).rejects.toBeInstanceOf(ApplyError);
    expect(await fake.saveText('nat')).toContain('KUBE-SVC-A');
    // load() seeds state; it is not a restore.
    fake.load('');
    expect(fake.restores).toHaveLength(3);
    expect(fake.userChains('nat')).toEqual([]);
  });

  it('keeps the sections committed before a streamed payload failed', async () => {
    const fake = new FakeIptables();
    async function* chunks() {
      yield svcPayload;
      yield '*filter\n:KUBE-X - [0:0]\n';
      throw new Error('producer broke');
    }
    await expect(fake.restoreStream(chunks())).rejects.toBeInstanceOf(InputAbortedError);
    expect(fake.dump()).toContain('KUBE-SVC-A');
    expect(fake.dump()).not.toContain('KUBE-X');
  });
});
