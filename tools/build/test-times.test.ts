import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { TestModule, Vitest } from 'vitest/node';
import { longestFirstThenByProject } from './longest-first-sequencer';
import { testTier } from './test-tiers';
import { COMMITTED_TEST_TIMES, readTestTimes } from './test-times';
import { TestTimesReporter } from './test-times-reporter';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), `na-test-times-${process.pid}-`));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('test tiers', () => {
  it.each([
    ['packages/probes/test/exec-probe.test.ts', 'unit and API-server'],
    ['apps/kubelet/test/binary.test.ts', 'unit and API-server'],
    ['packages/netfilter/test/real/nft-rule-oracle.test.ts', 'kernel'],
    ['apps/kube-proxy/test/real/daemon.test.ts', 'kernel'],
    ['packages/kube-proxy/test/real/ipvs-daemon.test.ts', 'micro-VM'],
    ['packages/kube-proxy/test/real/iptables-packets.test.ts', 'kernel'],
    ['packages/kubelet/test/real/vm/cgroup-v2.test.ts', 'micro-VM'],
    ['packages/ipvs/test/real/scenario.test.ts', 'micro-VM'],
    ['tools/vm/vm.test.ts', 'micro-VM'],
    ['packages/kubelet/test/real/pod-lifecycle.test.ts', 'containerd'],
    ['packages/cri-client/test/real/containerd-lifecycle.test.ts', 'containerd'],
    ['tools/containerd/containerd.test.ts', 'containerd'],
    ['apps/demo/test/real/end-to-end.test.ts', 'node in a box'],
    ['tools/sea/sea-binaries.test.ts', 'shipping'],
    ['tools/ci/fresh-clone.test.ts', 'tools and CI checks'],
  ])('%s is in the %s tier', (path, tier) => {
    expect(testTier(path)).toBe(tier);
  });
});

describe('TestTimesReporter', () => {
  const module = (path: string) => ({ moduleId: join(repo, path) }) as TestModule;

  it('times each file from queued to done, writes them and prints the tiers', () => {
    let now = 1_000_000;
    const outputFile = join(work, 'out', 'test-times.json');
    const reporter = new TestTimesReporter({ outputFile, printTiers: true, now: () => now });
    reporter.onInit({ config: { root: repo } } as Vitest);
    const printed: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      reporter.onTestModuleQueued(module('packages/probes/test/a.test.ts'));
      reporter.onTestModuleQueued(module('apps/demo/test/real/end-to-end.test.ts'));
      now += 2_500;
      reporter.onTestModuleEnd(module('packages/probes/test/a.test.ts'));
      reporter.onTestModuleQueued(module('packages/probes/test/b.test.ts'));
      now += 1_000;
      reporter.onTestModuleEnd(module('packages/probes/test/b.test.ts'));
      now += 6_500;
      reporter.onTestModuleEnd(module('apps/demo/test/real/end-to-end.test.ts'));
      reporter.onTestRunEnd();
    } finally {
      write.mockRestore();
    }
    expect(readTestTimes(outputFile)).toEqual({
      wallSeconds: 10,
      files: {
        'apps/demo/test/real/end-to-end.test.ts': 10,
        'packages/probes/test/a.test.ts': 2.5,
        'packages/probes/test/b.test.ts': 1,
      },
    });
    const table = printed.join('');
    expect(table).toContain('npm test: 10 s wall');
    expect(table).toMatch(/unit and API-server +2 +4 +0-4\n/);
    expect(table).toMatch(/node in a box +1 +10 +0-10\n/);
  });

  it('writes nothing for a run that queued no file', () => {
    const outputFile = join(work, 'none', 'test-times.json');
    new TestTimesReporter({ outputFile, printTiers: false }).onTestRunEnd();
    expect(existsSync(outputFile)).toBe(false);
  });
});

/** Every test file in the tree, repository-relative (what the committed table is about). */
function testFiles(dir = repo): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(repo, path)] : [];
  });
}

describe('the committed timing table (tools/build/test-times.json)', () => {
  const committed = readTestTimes(COMMITTED_TEST_TIMES);
  const files = testFiles();

  it('names only test files that exist', () => {
    const listed = Object.keys(committed?.files ?? {});
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.filter((path) => !files.includes(path))).toEqual([]);
  });

  it('times every real-component and shipping test file, so the longest start first', () => {
    const slowTiers = files.filter((path) => testTier(path) !== 'unit and API-server');
    expect(slowTiers.filter((path) => committed?.files[path] === undefined)).toEqual([]);
  });
});

describe('the longest-first order', () => {
  it('puts long files first by time, then the short ones grouped by project, busiest project first', () => {
    const file = (spec: string, project: string, seconds: number) => ({ spec, project, seconds });
    const ordered = longestFirstThenByProject([
      file('kubelet/a', 'kubelet', 0.2),
      file('probes/a', 'probes', 0.1),
      file('kubelet/vm', 'kubelet', 117),
      file('kubelet/b', 'kubelet', 1.5),
      file('probes/b', 'probes', 0.3),
      file('demo/e2e', 'demo', 283),
      file('testing/a', 'testing', 4.9),
    ]);
    expect(ordered.map((f) => f.spec)).toEqual([
      'demo/e2e',
      'kubelet/vm',
      'testing/a',
      'kubelet/b',
      'kubelet/a',
      'probes/b',
      'probes/a',
    ]);
  });
});
