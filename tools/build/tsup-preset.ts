import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Options } from 'tsup';

/**
 * The package's optional dependencies (the native `netlink` addon). tsup leaves dependencies and
 * peer dependencies out of the bundle but not these: bundled, netlink's JavaScript was copied
 * into dist and its require('events') failed in the ESM build, so the addon never loaded even
 * where it is installed.
 */
function optionalDependencies(): string[] {
  const manifest = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
    optionalDependencies?: Record<string, string>;
  };
  return Object.keys(manifest.optionalDependencies ?? {});
}

/** The one build every package shares: ESM + CJS + .d.ts from src/index.ts (plus extra entries). */
export function libraryBuild(extra: Partial<Options> = {}) {
  return defineConfig({
    external: optionalDependencies(),
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
