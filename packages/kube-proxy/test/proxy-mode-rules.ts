import type { ImportGraph } from '../../../tools/ci/import-graph.mjs';

/** kube-proxy's proxy modes: folders under src/ that must never import one another. */
export const PROXY_MODES = ['iptables', 'nftables', 'ipvs', 'userspace'] as const;

/**
 * Folders (under src/) that may import more than one mode: the entry points (`index.ts` at the
 * root re-exports, `testing/` gathers every mode's fakes) and `cleanup/` (`--cleanup` removes
 * whatever any mode left behind, like upstream's CleanupLeftovers in cmd/kube-proxy).
 */
export const MODE_AGGREGATORS = ['index.ts', 'testing', 'cleanup'] as const;

function topFolder(file: string): string {
  return file.split('/')[0] as string;
}

/**
 * Imports that break kube-proxy's layout rule: a mode importing another mode, or mode-neutral
 * code (model, shared, runtime, config, exec, errors) importing any mode. `graph` is src/'s.
 */
export function modeViolations(graph: ImportGraph): string[] {
  const modes = new Set<string>(PROXY_MODES);
  const aggregators = new Set<string>(MODE_AGGREGATORS);
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const fromTop = topFolder(from);
    if (aggregators.has(fromTop)) continue;
    for (const to of targets) {
      const toTop = topFolder(to);
      if (!modes.has(toTop) || toTop === fromTop) continue;
      out.push(`${from} -> ${to}`);
    }
  }
  return out.sort();
}
