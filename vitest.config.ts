import { defineConfig } from 'vitest/config';
import { sourceConditions } from './tools/build/vitest-preset.ts';

export default defineConfig({
  // The global setup below runs in vitest's own environment (`__vitest__`), not in a project: it
  // resolves workspace packages to their sources like every project does, so `npm test` runs on a
  // fresh clone before any build.
  environments: { __vitest__: { resolve: { conditions: sourceConditions } } },
  test: {
    projects: ['packages/*', 'apps/*', 'tools'],
    // Two cores: real-component suites (containerd, the IPVS VM) must not all start at once.
    maxWorkers: 2,
    // Fails the run, naming it, if any test leaves a network namespace, link or mount behind.
    globalSetup: ['tools/netns/leak-check.ts'],
    // CI also writes a JSON report, from which .ci/run prints the closing 'N passed, N failed' line.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]]
      : ['default'],
  },
});
