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
