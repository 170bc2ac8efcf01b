// The @kubernetes/client-node major a compatibility leg tests against instead of the workspace's
// (1.4.0, the devDependency): each version is installed once, with its own dependencies, into
// node_modules/.cache/nodeagent-client-node-<version>/ (NODEAGENT_NODE_CACHE_ROOT moves it, as it
// moves the Node runtimes), from the npm registry with the ordinary npm client.
//
// The leg then passes the package directory to vitest in NODEAGENT_CLIENT_NODE_DIR; the vitest
// preset (tools/build/vitest-preset.ts) aliases `@kubernetes/client-node` to it, so every test
// and the workspace sources it runs import that copy.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../sea/node-runtime.mjs';

/** The client-node each leg runs against; legs not listed use the workspace's 1.4.0. */
export const CLIENT_NODE_FOR_LEG = { 24: '2.0.1' };

/** Where one client-node version is installed. */
export function clientNodeCacheDir(version) {
  const root = process.env.NODEAGENT_NODE_CACHE_ROOT ?? join(REPO_ROOT, 'node_modules', '.cache');
  return join(root, `nodeagent-client-node-${version}`);
}

/** The version recorded in an installed client-node package directory. */
export function installedVersion(packageDir) {
  return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
}

/**
 * Installs @kubernetes/client-node@`version` (exact) unless the cache already holds it; returns
 * the package directory (…/node_modules/@kubernetes/client-node).
 */
export function ensureClientNode(version, { log = () => undefined } = {}) {
  const dir = clientNodeCacheDir(version);
  const packageDir = join(dir, 'node_modules', '@kubernetes', 'client-node');
  if (existsSync(join(packageDir, 'package.json')) && installedVersion(packageDir) === version)
    return packageDir;
  mkdirSync(dir, { recursive: true });
  // A private root of its own, so npm does not treat the install as part of the workspace.
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ private: true, name: 'client-node-compat' })}\n`,
  );
  log(`installing @kubernetes/client-node@${version} into ${dir}`);
  execFileSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      '--ignore-scripts',
      '--omit=dev',
      '--save-exact',
      `@kubernetes/client-node@${version}`,
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const got = installedVersion(packageDir);
  if (got !== version) throw new Error(`@kubernetes/client-node: installed ${got}, wanted ${version}`);
  return packageDir;
}
