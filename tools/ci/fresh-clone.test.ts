import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), `na-fresh-clone-${process.pid}-`));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync('bash', ['-c', command], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

// The README's Quick start on a clone of the committed tree, with no dist/ anywhere: what a
// newcomer types must run tests, not fail on unbuilt workspace packages.
describe('README commands on a fresh clone', { timeout: 900_000 }, () => {
  it('npm install leaves the tree clean and npm test runs a project with no build', () => {
    const clone = join(work, 'nodeagent');
    const cloned = sh(`git clone --quiet --no-hardlinks "${repo}" "${clone}"`, work);
    expect(cloned.status, cloned.stderr).toBe(0);
    expect(existsSync(join(clone, 'packages', 'primitives', 'dist'))).toBe(false);

    const installed = sh('npm install --no-audit --no-fund', clone);
    expect(installed.status, installed.stderr).toBe(0);
    // The install scripts it needs are declared for npm's install-script policy (allowScripts).
    expect(installed.stderr).not.toMatch(/install-scripts|not yet covered by allowScripts/);
    expect(sh('git status --porcelain --untracked-files=no', clone).stdout).toBe('');

    // The outer suite creates and removes namespaces meanwhile; the inner leak check would count
    // them as its own, so it is off here (the outer run's check covers this test too).
    const { FORCE_COLOR: _color, ...inherited } = process.env;
    const env = { ...inherited, NO_COLOR: '1', NODEAGENT_LEAK_CHECK: 'off', CI: '' };
    // Two of them read the recorded upstream behaviour, which must be in the clone (fidelity/):
    // nothing is beside it here.
    expect(existsSync(join(work, 'shared'))).toBe(false);
    const tested = sh(
      'npm test -- --project primitives --project testing --project node-status test/process-alive.test.ts ' +
        'test/version.test.ts test/stored-pod-defaults.test.ts test/node-status-golden.test.ts',
      clone,
      env,
    );
    const output = `${tested.stdout}\n${tested.stderr}`;
    // What to read when it fails: vitest's summary and failures, not the end of a long log.
    const report = output.slice(Math.max(0, output.indexOf('RUN')), output.indexOf('RUN') + 6000);
    expect(tested.status, report).toBe(0);
    expect(output, report).toMatch(/Test Files\s+\S*4 passed/);
    expect(existsSync(join(clone, 'packages', 'primitives', 'dist'))).toBe(false);
  });
});
