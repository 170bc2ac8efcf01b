import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { releasedManifest, releasedRange, satisfies, unsatisfiable } from './dry-run.mjs';

describe('release dry-run: versions and internal ranges', () => {
  it('satisfies: exact, caret, tilde, >= and unions, with npm semantics for 0.x and prereleases', () => {
    expect(satisfies('0.1.1', '^0.1.0')).toBe(true);
    expect(satisfies('0.2.0', '^0.1.0')).toBe(false);
    expect(satisfies('0.0.2', '^0.0.1')).toBe(false);
    expect(satisfies('1.4.0', '^1.2.3')).toBe(true);
    expect(satisfies('2.0.0', '^1.2.3')).toBe(false);
    expect(satisfies('1.2.9', '~1.2.3')).toBe(true);
    expect(satisfies('1.3.0', '~1.2.3')).toBe(false);
    expect(satisfies('0.1.0', '0.1.0')).toBe(true);
    expect(satisfies('0.1.1', '0.1.0')).toBe(false);
    expect(satisfies('2.0.1', '^1.4.0 || ^2.0.0')).toBe(true);
    expect(satisfies('3.0.0', '>=2.0.0')).toBe(true);
    // A prerelease satisfies only a range that names a prerelease of the same version.
    expect(satisfies('0.2.0-rc.0', '^0.1.0')).toBe(false);
    expect(satisfies('0.2.0-rc.1', '^0.2.0-rc.0')).toBe(true);
    expect(satisfies('0.2.0-rc.0', '^0.2.0-rc.1')).toBe(false);
    expect(() => satisfies('0.1.0', '0.1.x')).toThrow(RangeError);
  });

  it('releasedRange keeps a range the new version satisfies and otherwise moves it, keeping its prefix', () => {
    expect(releasedRange('^0.1.0', '0.1.1')).toBe('^0.1.0');
    expect(releasedRange('^0.1.0', '0.2.0')).toBe('^0.2.0');
    expect(releasedRange('0.1.0', '0.1.1')).toBe('0.1.1');
    expect(releasedRange('~0.1.0', '1.0.0')).toBe('~1.0.0');
  });

  it('releasedManifest sets the version and rewrites internal ranges only', () => {
    const versions = { '@nodeagent/a': '0.2.0', '@nodeagent/b': '0.2.0' };
    expect(
      releasedManifest(
        {
          name: '@nodeagent/b',
          version: '0.1.0',
          dependencies: { '@nodeagent/a': '^0.1.0', yaml: '^2.9.1' },
          peerDependencies: { '@kubernetes/client-node': '^1.4.0 || ^2.0.0' },
        },
        versions,
      ),
    ).toEqual({
      name: '@nodeagent/b',
      version: '0.2.0',
      dependencies: { '@nodeagent/a': '^0.2.0', yaml: '^2.9.1' },
      peerDependencies: { '@kubernetes/client-node': '^1.4.0 || ^2.0.0' },
    });
  });

  it('unsatisfiable names ranges the release does not meet, missing internal packages and local protocols', () => {
    expect(
      unsatisfiable([
        { name: '@nodeagent/a', version: '0.2.0' },
        { name: '@nodeagent/b', version: '0.2.0', dependencies: { '@nodeagent/a': '^0.2.0' } },
      ]),
    ).toEqual([]);
    expect(
      unsatisfiable([
        { name: '@nodeagent/a', version: '0.2.0' },
        {
          name: '@nodeagent/b',
          version: '0.2.0',
          dependencies: { '@nodeagent/a': '0.1.0', '@nodeagent/gone': '^0.2.0', x: 'workspace:*' },
        },
      ]),
    ).toEqual([
      '@nodeagent/b dependencies.@nodeagent/a: "0.1.0" excludes the released 0.2.0',
      '@nodeagent/b dependencies.@nodeagent/gone: @nodeagent/gone is not in the release',
      '@nodeagent/b dependencies.x: local protocol "workspace:*"',
    ]);
  });
});
