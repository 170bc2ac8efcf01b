import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
/** The recorded upstream behaviour in the repository, read by the tests. */
const inRepo = join(repo, 'fidelity');
/** Where it is recorded: beside the checkout (absent on a plain clone). */
const beside = join(repo, '..', 'shared', 'fidelity');
/** The one file of our own in fidelity/. */
const OURS = 'README.md';
const self = relative(repo, fileURLToPath(import.meta.url));

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .sort();
}

describe('fidelity/: the recorded upstream behaviour, in the repository', () => {
  const hasShared = existsSync(beside);

  it(
    hasShared
      ? 'is a byte-identical copy of ../shared/fidelity, plus its own README'
      : 'is present and not empty (no ../shared/fidelity beside this checkout to compare with)',
    () => {
      const ours = filesUnder(inRepo);
      expect(ours).toContain(OURS);
      if (!hasShared) {
        const recorded = ours.filter((path) => path !== OURS);
        expect(recorded.length).toBeGreaterThan(0);
        for (const path of recorded) expect(statSync(join(inRepo, path)).size, path).toBeGreaterThan(0);
        return;
      }
      const theirs = filesUnder(beside);
      expect(theirs.length).toBeGreaterThan(0);
      const missing = theirs.filter((path) => !ours.includes(path));
      expect(missing, 'in ../shared/fidelity but not in fidelity/').toEqual([]);
      const differing = theirs.filter(
        (path) => !readFileSync(join(beside, path)).equals(readFileSync(join(inRepo, path))),
      );
      expect(differing, 'bytes differ from ../shared/fidelity').toEqual([]);
      const extra = ours.filter((path) => path !== OURS && !theirs.includes(path));
      expect(extra, 'in fidelity/ but not in ../shared/fidelity').toEqual([]);
    },
  );

  it('is the only place the code reads it from: no source or test climbs out to ../shared', () => {
    // `shared/fidelity`, `'shared', 'fidelity'` (a join, on one line or several), `'..', 'shared'`,
    // and `../../../../shared` (four levels up from anywhere in a package is outside it).
    const climbsOut = [
      /shared['"]?[\s,/]+['"]?fidelity/,
      /['"]\.\.['"],\s*['"]shared['"]/,
      /(\.\.\/){4,}shared\b/,
    ];
    const tracked = execFileSync('git', ['ls-files', '-z', '--', 'packages', 'apps', 'tools'], {
      cwd: repo,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
      .split('\0')
      .filter((path) => /\.[cm]?[jt]s$|\.json$/.test(path) && path !== self && existsSync(join(repo, path)));
    expect(tracked.length).toBeGreaterThan(100);
    const offending = tracked.filter((path) => {
      const text = readFileSync(join(repo, path), 'utf8');
      return climbsOut.some((pattern) => pattern.test(text));
    });
    expect(offending).toEqual([]);
  });
});
