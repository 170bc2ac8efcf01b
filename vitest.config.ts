import { defineConfig } from 'vitest/config';

export default defineConfig({
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
