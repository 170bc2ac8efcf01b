import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type ImportGraph,
  importCycles,
  importGraphOf,
  importSpecifiers,
} from '../../../tools/ci/import-graph.mjs';
import { modeViolations } from './proxy-mode-rules';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const kubeProxySrc = fileURLToPath(new URL('../src', import.meta.url));

function graph(edges: Record<string, string[]>): ImportGraph {
  return new Map(Object.entries(edges).map(([from, to]) => [from, new Set(to)]));
}

describe('kube-proxy layout: modes never import each other', () => {
  it('no mode imports another mode, and nothing mode-neutral imports a mode', () => {
    expect(modeViolations(importGraphOf(kubeProxySrc))).toEqual([]);
  });

  it('fails on a cross-mode import and on mode-neutral code importing a mode', () => {
    const g = graph({
      'ipvs/plan-ipvs.ts': ['iptables/iptables-ruleset.ts', 'model/ip-family.ts', 'ipvs/ipvs-names.ts'],
      'runtime/node-sysctls.ts': ['ipvs/ipvs-kernel.ts'],
      'shared/local-detector.ts': ['model/cidr.ts'],
      'iptables/iptables-proxier.ts': ['shared/proxier-base.ts', 'runtime/clock.ts'],
      'cleanup/cleanup-all-chains.ts': ['iptables/cleanup-iptables.ts', 'ipvs/ipvs-names.ts'],
      'index.ts': ['iptables/index.ts', 'nftables/index.ts'],
    });
    expect(modeViolations(g)).toEqual([
      'ipvs/plan-ipvs.ts -> iptables/iptables-ruleset.ts',
      'runtime/node-sysctls.ts -> ipvs/ipvs-kernel.ts',
    ]);
  });

  it('reads type-only, re-export, side-effect and dynamic imports, not strings or comments', () => {
    const text = [
      "import type { IptablesRuleset } from '../iptables/iptables-ruleset';",
      "export { x } from './x';",
      "import './side-effect';",
      "const m = await import('../ipvs/plan-ipvs');",
      "// import { y } from '../nftables/y';",
      'const s = "from \'../userspace/z\'";',
    ].join('\n');
    expect(importSpecifiers(text)).toEqual([
      '../iptables/iptables-ruleset',
      './x',
      './side-effect',
      '../ipvs/plan-ipvs',
    ]);
  });
});

describe('no import cycles in any workspace package', () => {
  const roots = ['packages', 'apps']
    .flatMap((dir) => readdirSync(join(repo, dir)).map((name) => join(repo, dir, name, 'src')))
    .filter((dir) => existsSync(dir));

  it('finds the workspace packages', () => {
    expect(roots.length).toBeGreaterThan(8);
  });

  it.each(roots.map((root) => [root.slice(repo.length), root]))('%s has no import cycle', (_name, root) => {
    expect(importCycles(importGraphOf(root))).toEqual([]);
  });

  it('reports a cycle, a type-only one and a self-import; a diamond is not a cycle', () => {
    const g = graph({
      'a.ts': ['b.ts'],
      'b.ts': ['c.ts'],
      'c.ts': ['a.ts', 'd.ts'],
      'd.ts': [],
      'self.ts': ['self.ts'],
      'top.ts': ['left.ts', 'right.ts'],
      'left.ts': ['bottom.ts'],
      'right.ts': ['bottom.ts'],
      'bottom.ts': [],
    });
    expect(importCycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['self.ts']]);
  });
});
