import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { fileFindings, README_LIMITS } from './docs-check.mjs';

const script = fileURLToPath(new URL('./docs-check.mjs', import.meta.url));
// The labels the check refuses, built so that this file does not contain them.
const diary = (n: number) => `${'ses'}sion ${n}`;
const numbered = (n: number) => `${'hel'}per-${n}`;

let tree: string | undefined;
afterEach(() => {
  if (tree) rmSync(tree, { recursive: true, force: true });
  tree = undefined;
});

/** A git tree with the given files added to the index; returns its path. */
function gitTree(files: Record<string, string>): string {
  tree = mkdtempSync(join(tmpdir(), `na-docs-check-${process.pid}-`));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(tree, path, '..'), { recursive: true });
    writeFileSync(join(tree, path), text);
  }
  execFileSync('git', ['init', '--quiet'], { cwd: tree });
  execFileSync('git', ['add', '.'], { cwd: tree });
  return tree;
}

function run(root: string) {
  return spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
}

describe('docs-check', () => {
  it('passes a clean tree', () => {
    const result = run(gitTree({ 'README.md': '# x\n', 'src/a.ts': '// a UDP session ends on idle\n' }));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it(`fails on an injected "${diary(12)}" in a tracked source comment, naming file and line`, () => {
    const root = gitTree({ 'README.md': '# x\n', 'src/a.ts': `const a = 1;\n// measured in ${diary(12)}\n` });
    const result = run(root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('src/a.ts:2:');
  });

  it('fails on a numbered assistant label and a capitalised, possessive label', () => {
    expect(fileFindings('docs/a.md', `by ${numbered(3)}`)).toHaveLength(1);
    expect(fileFindings('docs/a.md', `${diary(49).replace('s', 'S')}'s rehearsal`)).toHaveLength(1);
    expect(fileFindings('docs/a.md', 'the UDP session table; sessionAffinity: ClientIP')).toEqual([]);
  });

  it('ignores untracked files in a git tree', () => {
    const root = gitTree({ 'README.md': '# x\n' });
    writeFileSync(join(root, 'notes.txt'), diary(7));
    expect(run(root).status).toBe(0);
  });

  it('fails on a README over its size: 12 KB at the root, 15 KB elsewhere', () => {
    const root = gitTree({
      'README.md': 'x'.repeat(README_LIMITS.root + 1),
      'packages/a/README.md': 'x'.repeat(README_LIMITS.other),
      'packages/b/README.md': 'x'.repeat(README_LIMITS.other + 1),
    });
    const result = run(root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('README.md:1: README is 12289 bytes');
    expect(result.stderr).toContain('packages/b/README.md:1:');
    expect(result.stderr).not.toContain('packages/a/README.md');
  });
});
