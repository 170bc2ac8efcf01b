import { defineConfig, type Options } from 'tsup';

/** The one build every package shares: ESM + CJS + .d.ts from src/index.ts (plus extra entries). */
export function libraryBuild(extra: Partial<Options> = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { composite: false } },
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    ...extra,
  });
}
