import { describe, expect, it } from 'vitest';
import { InputAbortedError, localRunner } from '../src/index';
import { widenNftCache, widenNftCacheStream } from '../src/iptables/index';

async function* chunksOf(parts: readonly string[], failAfter?: number) {
  for (const [i, p] of parts.entries()) {
    if (failAfter !== undefined && i === failAfter) throw new Error('renderer broke');
    yield p;
  }
}

async function collect(source: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const c of source) out += c;
  return out;
}

describe('localRunner with a streamed stdin', () => {
  it('delivers every chunk in order, through a full pipe (backpressure)', async () => {
    // 4 MB in 64 KB chunks: far more than a pipe holds, so writes must wait for drains.
    const parts = Array.from(
      { length: 64 },
      (_, i) => `${String(i).padStart(4, '0')}:${'x'.repeat(65_531)}\n`,
    );
    const result = await localRunner.run('cat', [], { input: chunksOf(parts) });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.length).toBe(parts.join('').length);
    expect(result.stdout === parts.join('')).toBe(true);
  });

  it('kills the command before closing stdin when the producer throws, and rejects with InputAbortedError', async () => {
    // `cat > file; echo done`: if stdin were closed normally, "done" would be printed.
    const err = await localRunner
      .run('sh', ['-c', 'cat >/dev/null; echo done'], { input: chunksOf(['a\n', 'b\n', 'c\n'], 2) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputAbortedError);
    const aborted = err as InputAbortedError;
    expect(aborted.code).toBe('INPUT_ABORTED');
    expect(aborted.command[0]).toBe('sh');
    expect(aborted.bytesWritten).toBe(4);
    expect((aborted.cause as Error).message).toBe('renderer broke');
  });

  it('stops producing when the command exits early and reports its exit status', async () => {
    let produced = 0;
    async function* endless() {
      for (;;) {
        produced++;
        yield 'y'.repeat(65_536);
      }
    }
    const result = await localRunner.run('sh', ['-c', 'head -c 10 >/dev/null; exit 3'], { input: endless() });
    expect(result.exitCode).toBe(3);
    expect(produced).toBeLessThan(1000);
  });

  it('still takes a plain string', async () => {
    const result = await localRunner.run('cat', [], { input: 'hello' });
    expect(result.stdout).toBe('hello');
  });
});

describe('widenNftCacheStream', () => {
  const payload = '*filter\n:A - [0:0]\n-A A -j ACCEPT\nCOMMIT\n*nat\n:B - [0:0]\nCOMMIT\n';

  it('gives what widenNftCache gives, however the payload is cut into chunks', async () => {
    const want = widenNftCache(payload).payload;
    for (let size = 1; size <= payload.length; size++) {
      const parts: string[] = [];
      for (let i = 0; i < payload.length; i += size) parts.push(payload.slice(i, i + size));
      expect(await collect(widenNftCacheStream(chunksOf(parts)))).toBe(want);
    }
  });

  it('handles a table line at the very end without a newline', async () => {
    expect(await collect(widenNftCacheStream(chunksOf(['COMMIT\n*ma', 'ngle'])))).toBe(
      widenNftCache('COMMIT\n*mangle').payload,
    );
  });
});
