import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { anonMappings, readAnonMappings } from '../src/anon-mappings';

// One mapping of each kind: the brk heap, an arena's heap at a 64 MiB boundary with its unused
// tail, two V8 pages (256 KiB, aligned), a 256 KiB mapping off V8's alignment, V8's code range
// (executable, 512 MiB reserved), a thread stack, and a file mapping with copied-on-write pages.
const SMAPS = `55d000000000-55d000400000 rw-p 00000000 00:00 0                          [heap]
Size:               4096 kB
Anonymous:          3000 kB
7f0004000000-7f0004100000 rw-p 00000000 00:00 0
Size:               1024 kB
Anonymous:           900 kB
7f0004100000-7f0008000000 ---p 00000000 00:00 0
Size:              64512 kB
Anonymous:             0 kB
7f0010040000-7f0010080000 rw-p 00000000 00:00 0
Size:                256 kB
Anonymous:           256 kB
7f0010080000-7f00100c0000 rw-p 00000000 00:00 0
Size:                256 kB
Anonymous:           200 kB
7f0010101000-7f0010141000 rw-p 00000000 00:00 0
Size:                256 kB
Anonymous:            64 kB
7f0040000000-7f0060000000 rwxp 00000000 00:00 0
Size:             524288 kB
Anonymous:          5060 kB
7f0020000000-7f0020800000 rw-p 00000000 00:00 0                          [stack]
Size:               8192 kB
Anonymous:           132 kB
7f0030000000-7f0030010000 rw-p 00034000 08:01 1234                       /usr/local/bin/nodeagent
Size:                 64 kB
Anonymous:            40 kB
`;

describe('anonMappings', () => {
  it('sums Anonymous by mapping kind: brk heap, arenas, V8 pages, V8 code, the rest', () => {
    expect(anonMappings(SMAPS)).toEqual({
      mallocHeapBytes: 3000 * 1024,
      mallocArenaBytes: 900 * 1024,
      v8PageBytes: (256 + 200) * 1024,
      v8CodeBytes: 5060 * 1024,
      otherBytes: (64 + 132 + 40) * 1024,
    });
  });

  it('reads this process: V8 pages, compiled code and malloc memory resident, together within its RssAnon', async () => {
    const held = Array.from({ length: 50 }, (_, i) => new Array(10_000).fill(i));
    const mine = await readAnonMappings(process.pid);
    expect(mine.v8PageBytes).toBeGreaterThan(1024 * 1024);
    // vitest and this file's code are compiled by now; a wrong kind puts none of it here.
    expect(mine.v8CodeBytes).toBeGreaterThan(256 * 1024);
    expect(mine.mallocHeapBytes + mine.mallocArenaBytes).toBeGreaterThan(0);
    const status = await readFile('/proc/self/status', 'utf8');
    const rssAnonKb = Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1]);
    const total =
      mine.mallocHeapBytes + mine.mallocArenaBytes + mine.v8PageBytes + mine.v8CodeBytes + mine.otherBytes;
    // smaps and status are read a moment apart; a few MiB of churn between them is allowed.
    expect(Math.abs(total - rssAnonKb * 1024)).toBeLessThan(16 * 1024 * 1024);
    expect(held.length).toBe(50);
  });
});
