import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listRootExports, rootClashes } from './root-exports';

/** What a package's root may export; the rest belongs at a named subpath (issue #22). */
const MAX_ROOT_EXPORTS = 60;

describe('package root entry points', () => {
  const roots = listRootExports(join(import.meta.dirname, '..', '..', 'packages'));

  it('finds every package', () => {
    expect(roots.map((r) => r.packageName)).toEqual(
      expect.arrayContaining([
        '@nodeagent/cri-client',
        '@nodeagent/csi-client',
        '@nodeagent/informer',
        '@nodeagent/ipvs',
        '@nodeagent/kube-proxy',
        '@nodeagent/kubelet',
        '@nodeagent/netfilter',
        '@nodeagent/node-status',
        '@nodeagent/probes',
        '@nodeagent/testing',
      ]),
    );
  });

  it.each(roots.map((r) => [r.packageName, r.names.length, r.names] as const))(
    `%s exports at most ${MAX_ROOT_EXPORTS} names at its root (has %i)`,
    (_name, count, names) => {
      expect(count, `root exports: ${names.join(', ')}`).toBeLessThanOrEqual(MAX_ROOT_EXPORTS);
    },
  );

  it('no two roots export different things under one name', () => {
    // Importing two packages' roots into one file must not need a rename.
    expect(Object.fromEntries(rootClashes(roots))).toEqual({});
  });
});
