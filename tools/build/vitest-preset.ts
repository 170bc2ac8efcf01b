import { defineProject, mergeConfig, type UserWorkspaceConfig } from 'vitest/config';

/** Resolve workspace packages to their TypeScript sources, so tests run without a build. */
const sourceConditions = ['@nodeagent/source', 'import', 'module', 'node', 'default'];

export function nodeagentProject(name: string, overrides: UserWorkspaceConfig = {}) {
  return mergeConfig(
    defineProject({
      resolve: { conditions: sourceConditions },
      ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@nodeagent/source'] } },
      test: {
        name,
        environment: 'node',
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      },
    }),
    overrides,
  );
}
