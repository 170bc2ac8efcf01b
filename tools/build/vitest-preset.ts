import { defineProject, mergeConfig, type UserWorkspaceConfig } from 'vitest/config';

/** Resolve workspace packages to their TypeScript sources, so tests run without a build. */
export const sourceConditions = ['@nodeagent/source', 'import', 'module', 'node', 'default'];

/**
 * A test's time limit only guards against a hang; it is not a speed check (benchmarks measure
 * speed). vitest's 5 s default is a race a busy machine loses whenever a test starts processes, so
 * the defaults sit far from any normal run.
 */
export const DEFAULT_TEST_TIMEOUT_MS = 60_000;
export const DEFAULT_HOOK_TIMEOUT_MS = 120_000;

/**
 * A compatibility leg's @kubernetes/client-node (tools/compat/client-node.mjs): when
 * NODEAGENT_CLIENT_NODE_DIR names an installed copy, the package and its subpaths resolve there
 * for tests and the workspace sources alike, instead of the workspace's devDependency.
 */
function clientNodeAlias() {
  const dir = process.env.NODEAGENT_CLIENT_NODE_DIR;
  return dir ? [{ find: /^@kubernetes\/client-node(\/.*)?$/, replacement: `${dir}$1` }] : [];
}

export function nodeagentProject(name: string, overrides: UserWorkspaceConfig = {}) {
  return mergeConfig(
    defineProject({
      resolve: { conditions: sourceConditions, alias: clientNodeAlias() },
      ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@nodeagent/source'] } },
      test: {
        name,
        environment: 'node',
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        testTimeout: DEFAULT_TEST_TIMEOUT_MS,
        hookTimeout: DEFAULT_HOOK_TIMEOUT_MS,
        // A worker keeps its modules from one file to the next: each file importing the sources
        // and their dependencies again was a third of the suite's CPU. Tests therefore leave no
        // global state behind (timers restored, env put back), and a file that mocks a module
        // resets the module registry before and after importing what uses it (docs/testing/README.md).
        isolate: false,
      },
    }),
    overrides,
  );
}
