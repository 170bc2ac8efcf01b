import { type CommandRunner, isStreamedInput } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { ApplyError, IptablesClient } from '../src/index';

/** A runner that reads the streamed stdin and answers with `reply(sentText)`. */
function readingRunner(reply: (sent: string) => { exitCode: number; stderr?: string }) {
  const sent: string[] = [];
  const runner: CommandRunner = {
    async run(_file, _args, options = {}) {
      let text = '';
      if (isStreamedInput(options.input)) for await (const c of options.input) text += c.toString();
      else text = options.input?.toString() ?? '';
      sent.push(text);
      const r = reply(text);
      return { stdout: '', stderr: r.stderr ?? '', exitCode: r.exitCode };
    },
  };
  return { runner, sent };
}

async function* chunks(parts: readonly string[]) {
  for (const p of parts) yield p;
}

describe('IptablesClient.restoreStream', () => {
  it('without size expectations, auto means plain --noflush (nothing widened)', async () => {
    const { runner, sent } = readingRunner(() => ({ exitCode: 0 }));
    const client = new IptablesClient({ runner, backend: 'nft' });
    const result = await client.restoreStream(chunks(['*nat\n:A - [0:0]\n', 'COMMIT\n']));
    expect(result).toEqual({ strategy: 'noflush', chains: 1, rules: 0 });
    expect(sent).toEqual(['*nat\n:A - [0:0]\nCOMMIT\n']);
  });

  it('widens a big expected payload, appends the tail unwidened, and maps a failing line back', async () => {
    const payload = ['*nat\n:A - [0:0]\n', ':B - [0:0]\n-A A -j B\n', 'COMMIT\n'];
    const tail = '*nat\n-I PREROUTING -j A\nCOMMIT\n';
    // As sent: line 5 is "-A A -j B" (line 4 of the payload: one `-S` was inserted).
    const { runner, sent } = readingRunner(() => ({ exitCode: 1, stderr: 'line 5 failed\n' }));
    const client = new IptablesClient({ runner, backend: 'nft' });
    const err = await client
      .restoreStream(chunks(payload), {
        expected: { chains: 5000, rules: 100_000, builtinRules: 0 },
        unwidenedTail: () => tail,
      })
      .catch((e: unknown) => e);
    expect(sent[0]).toBe(`*nat\n-S\n:A - [0:0]\n:B - [0:0]\n-A A -j B\nCOMMIT\n${tail}`);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as ApplyError).line).toBe(4);
    expect((err as ApplyError).lineText).toBe('-A A -j B');
  });

  it('a failing line in the tail is named too', async () => {
    const { runner } = readingRunner(() => ({ exitCode: 1, stderr: 'line 6 failed\n' }));
    const client = new IptablesClient({ runner, backend: 'nft' });
    const err = await client
      .restoreStream(chunks(['*nat\n:A - [0:0]\nCOMMIT\n']), {
        expected: { chains: 5000, rules: 100_000, builtinRules: 0 },
        unwidenedTail: () => '*nat\n-I PREROUTING -j A\nCOMMIT\n',
      })
      .catch((e: unknown) => e);
    // Sent line 6 = payload line 5 (the -S before it is not ours).
    expect((err as ApplyError).lineText).toBe('-I PREROUTING -j A');
  });
});

describe('widenNftCache minChains', () => {
  it('widens only sections declaring that many chains, and maps lines around the insertion', async () => {
    const { widenNftCache } = await import('../src/iptables/index');
    const payload = '*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\nCOMMIT\n*filter\n:C - [0:0]\nCOMMIT\n';
    const w = widenNftCache(payload, { minChains: 2 });
    expect(w.payload).toBe(
      '*nat\n-S\n:A - [0:0]\n:B - [0:0]\n-A A -j B\nCOMMIT\n*filter\n:C - [0:0]\nCOMMIT\n',
    );
    const sentLines = w.payload.split('\n');
    const lines = payload.split('\n');
    for (const [i, text] of sentLines.entries()) {
      if (text === '-S' || text === '') continue;
      expect(lines[w.mapLine(i + 1) - 1]).toBe(text);
    }
    expect(widenNftCache(payload).payload.match(/^-S$/gm)).toHaveLength(2);
  });
});
