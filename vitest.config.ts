import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './tools/build/longest-first-sequencer.ts';
import { TestTimesReporter } from './tools/build/test-times-reporter.ts';
import { sourceConditions } from './tools/build/vitest-preset.ts';

export default defineConfig({
  // The global setup below runs in vitest's own environment (`__vitest__`), not in a project: it
  // resolves workspace packages to their sources like every project does, so `npm test` runs on a
  // fresh clone before any build.
  environments: { __vitest__: { resolve: { conditions: sourceConditions } } },
  test: {
    projects: ['packages/*', 'apps/*', 'tools'],
    // Three workers on two cores: a real-component file spends much of its time waiting (on
    // containerd, the micro-VM, an agent's sync, a grace period), and a third file fills those
    // waits. Measured beside CI's two busy processes: two workers 991 s, three 865 s.
    maxWorkers: 3,
    // The longest files first, across projects (tools/build/test-times.json), so neither worker
    // idles at the end while the other runs a long real-component file.
    sequence: { sequencer: LongestFirstSequencer },
    // Fails the run, naming it, if any test leaves a network namespace, link or mount behind.
    // Then removes the binaries' bundles the workers made (tools/bundle).
    globalSetup: ['tools/netns/leak-check.ts', 'tools/bundle/sweep-setup.ts'],
    // Every run writes each file's time to test-results/test-times.json; CI also prints the
    // per-tier times and writes a JSON report, from which .ci/run prints the closing
    // 'N passed, N failed' line.
    reporters: [
      'default',
      new TestTimesReporter({
        outputFile: 'test-results/test-times.json',
        printTiers: Boolean(process.env.CI),
      }),
      ...(process.env.CI ? [['json', { outputFile: 'test-results/vitest.json' }] as const] : []),
    ],
  },
});
