import { describe, expect, it } from 'vitest';
import { processMemory } from '../src/index';

const { fileMappings, readFileMappings } = processMemory;

// Two text mappings of the same file range (merged), its rodata, an anonymous mapping whose
// Rss must not be added to the mapping before it, and a library.
const SMAPS = `00400000-00746000 r--p 00000000 08:01 1234                               /usr/local/bin/nodeagent-kube-proxy
Size:               3352 kB
Rss:                2356 kB
Pss:                2356 kB
0074a000-03200000 r-xp 0034a000 08:01 1234                               /usr/local/bin/nodeagent-kube-proxy
Size:              43736 kB
Rss:               35600 kB
03201000-06b51000 r--p 02e01000 08:01 1234                               /usr/local/bin/nodeagent-kube-proxy
Size:              58688 kB
Rss:               23500 kB
06b52000-06c00000 rw-p 00000000 00:00 0
Size:                696 kB
Rss:                 600 kB
7f0000000000-7f0000100000 r-xp 00026000 08:01 99                         /usr/lib/x86_64-linux-gnu/libc.so.6
Size:               1024 kB
Rss:                1300 kB
7f0000200000-7f0000201000 r-xp 0034a000 08:01 1234                       /usr/local/bin/nodeagent-kube-proxy
Size:                  4 kB
Rss:                   4 kB
7f0000300000-7f0000301000 r--p 00000000 08:01 77                         /tmp/unused.so
Size:                  4 kB
Rss:                   0 kB
`;

describe('fileMappings', () => {
  it('sums Rss per file, permissions and offset, largest first, leaving anonymous memory out', () => {
    const m = fileMappings(SMAPS);
    expect(m.map((x) => x.mapping)).toEqual([
      'nodeagent-kube-proxy r-xp @0x34a000',
      'nodeagent-kube-proxy r--p @0x2e01000',
      'nodeagent-kube-proxy r--p @0x0',
      'libc.so.6 r-xp @0x26000',
    ]);
    expect(m[0]?.rssBytes).toBe((35600 + 4) * 1024);
    expect(m[0]?.sizeBytes).toBe(0x03200000 - 0x0074a000 + 0x1000);
    expect(m.reduce((sum, x) => sum + x.rssBytes, 0)).toBe((2356 + 35600 + 23500 + 1300 + 4) * 1024);
  });

  it('reads this process: its node executable has resident text', async () => {
    const mine = await readFileMappings(process.pid);
    const exe = process.execPath.split('/').pop() as string;
    const text = mine.filter((m) => m.mapping.startsWith(`${exe} r-xp`));
    expect(text.length).toBeGreaterThan(0);
    expect(text[0]?.rssBytes).toBeGreaterThan(1024 * 1024);
  });
});
