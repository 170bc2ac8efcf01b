import { describe, expect, it } from 'vitest';
import {
  ApplyError,
  type CommandRunner,
  detectIptablesBackend,
  IptablesClient,
  UnknownTargetError,
} from '../src/index';
import {
  checkPayloadReferences,
  failedLineOf,
  InvalidFieldError,
  lineAt,
  payloadStats,
  widenNftCache,
} from '../src/iptables/index';

interface Call {
  file: string;
  args: readonly string[];
  input?: string;
}

function fakeRunner(reply: (call: Call) => { stdout?: string; stderr?: string; exitCode?: number }) {
  const calls: Call[] = [];
  const runner: CommandRunner = {
    async run(file, args, options = {}) {
      const call = { file, args, ...(typeof options.input === 'string' ? { input: options.input } : {}) };
      calls.push(call);
      const r = reply(call);
      return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', exitCode: r.exitCode ?? 0 };
    },
  };
  return { runner, calls };
}

const bigPayload = (chains: number) =>
  [
    '*nat',
    ...Array.from({ length: chains }, (_, i) => `:KUBE-C${i} - [0:0]`),
    ...Array.from({ length: chains }, (_, i) => `-A KUBE-C${i} -j ACCEPT`),
    'COMMIT',
    '',
  ].join('\n');

describe('IptablesClient', () => {
  it('detects the back end from iptables --version', async () => {
    const nft = fakeRunner(() => ({ stdout: 'iptables v1.8.9 (nf_tables)\n' }));
    expect(await detectIptablesBackend(nft.runner)).toBe('nft');
    const legacy = fakeRunner(() => ({ stdout: 'iptables v1.8.9 (legacy)\n' }));
    expect(await detectIptablesBackend(legacy.runner, 'ipv6')).toBe('legacy');
    expect(legacy.calls[0]!.file).toBe('ip6tables');
  });

  it('restores with --noflush and the wait flags through the back end binary', async () => {
    const { runner, calls } = fakeRunner(() => ({}));
    const client = new IptablesClient({ runner, backend: 'legacy', family: 'ipv6' });
    const result = await client.restore('*filter\n:KUBE-A - [0:0]\nCOMMIT\n');
    expect(calls[0]!.file).toBe('ip6tables-legacy-restore');
    expect(calls[0]!.args).toEqual(['--noflush', '-w', '5', '-W', '100000']);
    expect(result).toEqual({ strategy: 'noflush', chains: 1, rules: 0 });
  });

  it('widens the nft cache for big payloads and maps error lines back', async () => {
    const { runner, calls } = fakeRunner((call) =>
      call.input?.includes('-S')
        ? { exitCode: 2, stderr: 'iptables-restore: bad\nError occurred at line: 5\n' }
        : {},
    );
    const client = new IptablesClient({ runner, backend: 'nft' });
    const payload = bigPayload(600);
    const error = await client.restore(payload).catch((e: unknown) => e);
    expect(calls[0]!.file).toBe('iptables-nft-restore');
    expect(calls[0]!.input!.startsWith('*nat\n-S\n:KUBE-C0')).toBe(true);
    expect(error).toBeInstanceOf(ApplyError);
    // Sent line 5 is original line 4.
    expect((error as ApplyError).line).toBe(4);
    expect((error as ApplyError).lineText).toBe(':KUBE-C2 - [0:0]');
    // Small payloads, and explicit strategies, are sent as they are.
    await client.restore(bigPayload(3), { strategy: 'auto' }).catch(() => {});
    expect(calls[1]!.input).toBe(bigPayload(3));
  });

  it('validates models before writing anything', async () => {
    const { runner, calls } = fakeRunner(() => ({}));
    const client = new IptablesClient({ runner, backend: 'nft' });
    await expect(
      client.restore([
        {
          name: 'nat',
          chains: [{ name: 'KUBE-A', rules: [{ matches: [], target: { kind: 'jump', chain: 'KUBE-B' } }] }],
        },
      ]),
    ).rejects.toBeInstanceOf(UnknownTargetError);
    expect(calls).toHaveLength(0);
  });

  it('rejects a payload jumping to an undeclared chain before running anything', async () => {
    const { runner, calls } = fakeRunner(() => ({}));
    const client = new IptablesClient({ runner, backend: 'nft' });
    const payload =
      '*nat\n:KUBE-A - [0:0]\n-A KUBE-A -m comment --comment "say -j KUBE-A" -j KUBE-MISSING\nCOMMIT\n';
    const error = await client.restore(payload).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTargetError);
    expect((error as UnknownTargetError).field).toBe('nat/KUBE-A (payload line 3) target');
    expect((error as UnknownTargetError).target).toBe('KUBE-MISSING');
    await client.restore(payload, { validate: { existingChains: { nat: ['KUBE-MISSING'] } } });
    expect(calls).toHaveLength(1);
    // Targets and built-in chains need no declaration; -g is checked like -j.
    expect(() =>
      checkPayloadReferences('*filter\n-A INPUT -j DROP\n-A INPUT -j LOG --log-prefix x\nCOMMIT\n'),
    ).not.toThrow();
    expect(() => checkPayloadReferences('*filter\n:A - [0:0]\n-A INPUT -g B\nCOMMIT\n')).toThrow(
      UnknownTargetError,
    );
    // A chain declared in another table section does not count.
    expect(() =>
      checkPayloadReferences('*nat\n:A - [0:0]\nCOMMIT\n*filter\n-A INPUT -j A\nCOMMIT\n'),
    ).toThrow(/filter\/INPUT/);
  });

  it('full validation checks every field of a model', async () => {
    const { runner, calls } = fakeRunner(() => ({}));
    const client = new IptablesClient({ runner, backend: 'nft' });
    const bad = [
      {
        name: 'nat' as const,
        chains: [
          { name: 'KUBE-A', rules: [{ matches: [{ kind: 'source' as const, address: '10.0.0.300' }] }] },
        ],
      },
    ];
    await expect(client.restore(bad, { validate: { full: true } })).rejects.toBeInstanceOf(InvalidFieldError);
    expect(calls).toHaveLength(0);
  });

  it('deleteRule repeats -D while -C finds the rule; deleteChain flushes then deletes; both report what they did', async () => {
    const present = { rules: 2, chain: true };
    const { runner, calls } = fakeRunner((call) => {
      if (call.args.includes('-C')) return { exitCode: present.rules > 0 ? 0 : 1 };
      if (call.args.includes('-D')) present.rules--;
      if (call.args.includes('-S')) return { exitCode: present.chain ? 0 : 1 };
      if (call.args.includes('-X')) present.chain = false;
      return {};
    });
    const client = new IptablesClient({ runner, backend: 'legacy' });
    const args = ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'];
    expect(await client.deleteRule('nat', 'OUTPUT', args)).toBe(true);
    expect(calls.filter((c) => c.args.includes('-D'))).toHaveLength(2);
    expect(calls[1]).toEqual({
      file: 'iptables-legacy',
      args: ['-w', '5', '-W', '100000', '-t', 'nat', '-D', 'OUTPUT', ...args],
    });
    expect(await client.deleteRule('nat', 'OUTPUT', args)).toBe(false);
    expect(await client.chainExists('nat', 'KUBE-SERVICES')).toBe(true);
    calls.length = 0;
    expect(await client.deleteChain('nat', 'KUBE-SERVICES')).toBe(true);
    expect(calls.map((c) => c.args.slice(4))).toEqual([
      ['-t', 'nat', '-S', 'KUBE-SERVICES', '1'],
      ['-t', 'nat', '-F', 'KUBE-SERVICES'],
      ['-t', 'nat', '-X', 'KUBE-SERVICES'],
    ]);
    expect(await client.deleteChain('nat', 'KUBE-SERVICES')).toBe(false);
  });

  it("a refused single-rule command is an ApplyError with iptables' message", async () => {
    const { runner } = fakeRunner((call) =>
      call.args.includes('-C')
        ? { exitCode: 1 }
        : { exitCode: 1, stderr: "iptables: Couldn't load target `KUBE-X'" },
    );
    const client = new IptablesClient({ runner, backend: 'nft' });
    const err = await client
      .ensureRule('append', 'filter', 'INPUT', ['-j', 'KUBE-X'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as Error).message).toContain("Couldn't load target");
  });

  it('ensureRule checks first and only adds when missing', async () => {
    let present = false;
    const { runner, calls } = fakeRunner((call) => {
      if (call.args.includes('-C')) return { exitCode: present ? 0 : 1 };
      present = true;
      return {};
    });
    const client = new IptablesClient({ runner, backend: 'nft' });
    const rule = {
      matches: [{ kind: 'comment' as const, comment: 'kubernetes service portals' }],
      target: { kind: 'jump' as const, chain: 'KUBE-SERVICES' },
    };
    expect(await client.ensureRule('prepend', 'nat', 'PREROUTING', rule)).toBe(true);
    expect(await client.ensureRule('prepend', 'nat', 'PREROUTING', rule)).toBe(false);
    expect(calls[1]!.args).toEqual([
      '-w',
      '5',
      '-W',
      '100000',
      '-t',
      'nat',
      '-I',
      'PREROUTING',
      '-m',
      'comment',
      '--comment',
      'kubernetes service portals',
      '-j',
      'KUBE-SERVICES',
    ]);
    expect(calls).toHaveLength(3);
  });
});

describe('payload helpers', () => {
  it('counts chains, rules and tables', () => {
    expect(payloadStats(bigPayload(10))).toEqual({ chains: 10, rules: 10, tables: 1, builtinRules: 0 });
    // Built-in chains are per table: OUTPUT counts in nat, FORWARD does not exist there.
    const mixed =
      '*nat\n:KUBE-X - [0:0]\n-I OUTPUT -j KUBE-X\n-A FORWARD -j KUBE-X\n-A OUTPUTX -j KUBE-X\nCOMMIT\n';
    expect(payloadStats(mixed)).toEqual({ chains: 1, rules: 2, tables: 1, builtinRules: 1 });
  });

  it('does not widen a big payload that writes to built-in chains', async () => {
    const { runner, calls } = fakeRunner(() => ({}));
    const client = new IptablesClient({ runner, backend: 'nft' });
    const payload = bigPayload(600).replace('COMMIT', '-I PREROUTING -j KUBE-C0\nCOMMIT');
    const result = await client.restore(payload);
    expect(result.strategy).toBe('noflush');
    expect(calls[0]!.input).toBe(payload);
  });

  it('maps every line of a widened payload back to the original', () => {
    const payload = '*nat\n:A - [0:0]\nCOMMIT\n*filter\n:B - [0:0]\n-A B -j ACCEPT\nCOMMIT\n';
    const { payload: sent, mapLine } = widenNftCache(payload);
    const sentLines = sent.split('\n');
    expect(sentLines.slice(0, 3)).toEqual(['*nat', '-S', ':A - [0:0]']);
    for (let i = 1; i <= sentLines.length - 1; i++) {
      const original = lineAt(payload, mapLine(i));
      expect(original === sentLines[i - 1] || (sentLines[i - 1] === '-S' && original?.startsWith('*'))).toBe(
        true,
      );
    }
  });

  it('finds the failing line in both back ends wording', () => {
    expect(failedLineOf('iptables-restore v1.8.9 (nf_tables): x\nError occurred at line: 12\n')).toBe(12);
    expect(failedLineOf('iptables-restore: line 7 failed\n')).toBe(7);
    expect(
      failedLineOf(
        'iptables-restore v1.8.9 (nf_tables): \nline 4: RULE_APPEND failed (Invalid argument): rule in chain FOO\n',
      ),
    ).toBe(4);
    expect(failedLineOf('nothing')).toBeUndefined();
  });
});
