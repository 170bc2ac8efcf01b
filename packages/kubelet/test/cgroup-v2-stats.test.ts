import { describe, expect, it } from 'vitest';
import { parseFlatKeyed, parseIoStat, parsePressure, readCgroupV2Stats } from '../src/stats/cgroup-v2-stats';
import { StatsSourceError } from '../src/stats/stats-errors';

// The real kernel's files are covered by test/real/vm/cgroup-v2.test.ts; these pin the edges.

const files: Record<string, string> = {
  'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n',
  'memory.current': '10000\n',
  'memory.max': 'max\n',
  'memory.stat': 'anon 6000\nfile 4000\ninactive_file 12000\npgfault 7\npgmajfault 1\n',
};
const fromFixture = (extra: Record<string, string>) => async (_dir: string, file: string) => {
  const text = { ...files, ...extra }[file];
  if (text === undefined) throw Object.assign(new Error(`ENOENT ${file}`), { code: 'ENOENT' });
  return text;
};

describe('cgroup v2 stats', () => {
  it('reads without io.stat or PSI (PSI off), no limit and a working set floored at 0', async () => {
    const sample = await readCgroupV2Stats('/cg', 't', fromFixture({}));
    expect(sample.cpu).toEqual({ time: 't', usageCoreNanoSeconds: 1_500_000 });
    // inactive_file above usage (pages charged elsewhere) must not make the working set negative.
    expect(sample.memory).toEqual({
      time: 't',
      usageBytes: 10000,
      workingSetBytes: 0,
      rssBytes: 6000,
      pageFaults: 7,
      majorPageFaults: 1,
    });
    expect(sample.io).toEqual({ time: 't' });
    expect(sample.ioDevices).toEqual([]);
  });

  it('reads a cpu.pressure without a full line (kernels before 5.13) as full zero', () => {
    expect(parsePressure('some avg10=1.50 avg60=0.25 avg300=0.00 total=42\n', 'cpu.pressure')).toEqual({
      some: { avg10: 1.5, avg60: 0.25, avg300: 0, total: 42 },
      full: { avg10: 0, avg60: 0, avg300: 0, total: 0 },
    });
  });

  it('keeps io.stat keys the kernel leaves out at 0', () => {
    expect(parseIoStat('8:0 rbytes=4096 rios=1\n', 'io.stat')).toEqual([
      { major: 8, minor: 0, rbytes: 4096, wbytes: 0, rios: 1, wios: 0, dbytes: 0, dios: 0 },
    ]);
  });

  it('names the file and the line it cannot parse', async () => {
    expect(() => parseFlatKeyed('usage_usec lots\n', '/cg/cpu.stat')).toThrow(StatsSourceError);
    expect(() => parsePressure('some avg10=x avg60=0 avg300=0 total=1', '/cg/io.pressure')).toThrow(
      /\/cg\/io\.pressure.*avg10/,
    );
    expect(() => parseIoStat('sda rbytes=1', '/cg/io.stat')).toThrow(/major:minor/);
    await expect(readCgroupV2Stats('/cg', 't', fromFixture({ 'cpu.stat': 'user_usec 1\n' }))).rejects.toThrow(
      /usage_usec/,
    );
    await expect(readCgroupV2Stats('/cg', 't', fromFixture({ 'memory.current': 'max\n' }))).rejects.toThrow(
      StatsSourceError,
    );
  });
});
