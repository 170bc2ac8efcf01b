// Compiles page-release/page-release.c into the N-API addon the single executables embed
// (page-release.cjs loads it). Node-API is ABI-stable, so the headers of the Node 24 runtime the
// executables are made from serve; the C compiler is the system's `cc` (Debian's gcc, which
// tools/install-deps.mjs installs).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuildStep } from './build-step.mjs';
import { SeaBuildError } from './sea-build-error.mjs';

export const PAGE_RELEASE_SOURCE = join(
  dirname(fileURLToPath(import.meta.url)),
  'page-release',
  'page-release.c',
);

/**
 * Node's headers for a node binary: the official layout puts them at <prefix>/include/node beside
 * <prefix>/bin/node.
 */
export function nodeIncludeDir(node) {
  const dir = join(dirname(dirname(node)), 'include', 'node');
  if (!existsSync(join(dir, 'node_api.h')))
    throw new SeaBuildError('NODE_HEADERS', dir, `no node_api.h beside ${node}`);
  return dir;
}

/** Compiles the addon to `output` against `includeDir`; returns `output`. */
export function buildPageReleaseAddon(output, includeDir, cc = process.env.CC || 'cc') {
  const args = [
    '-std=gnu11',
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-fPIC',
    '-shared',
    '-I',
    includeDir,
    '-o',
    output,
    PAGE_RELEASE_SOURCE,
  ];
  runBuildStep(cc, args, 'PAGE_RELEASE_COMPILE', 'apt-get install gcc libc6-dev');
  return output;
}
