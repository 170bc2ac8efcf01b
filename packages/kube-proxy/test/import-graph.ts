import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** A module graph: file (relative to its root) → the files it imports (type-only imports included). */
export type ImportGraph = Map<string, Set<string>>;

/**
 * Every import specifier of a TypeScript file: static, `import type`, `export … from`, side-effect and
 * dynamic imports. The compiler's own pre-processor reads them, so specifiers inside strings or
 * comments do not count and none is missed by a regex's idea of the syntax.
 */
export function importSpecifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** `./a` → `a.ts` or `a/index.ts` (a `.js` suffix names the `.ts` file, as in NodeNext code). */
function resolveRelative(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec.replace(/\.(js|ts)$/, ''));
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  return undefined;
}

/** The graph of relative imports among the `.ts` files under `root` (tests beside the source included). */
export function importGraphOf(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of tsFiles(root)) {
    const edges = new Set<string>();
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolveRelative(file, spec);
      if (target) edges.add(relative(root, target));
    }
    graph.set(relative(root, file), edges);
  }
  return graph;
}

/**
 * Tarjan's strongly connected components; every component with more than one node, or a node that
 * imports itself, is an import cycle. Iterative, so a long chain of imports cannot overflow the stack.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; edges: string[]; i: number }[] = [];
    const visit = (node: string) => {
      index.set(node, next);
      low.set(node, next);
      next++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: [...(graph.get(node) ?? [])], i: 0 });
    };
    visit(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as (typeof work)[number];
      if (frame.i < frame.edges.length) {
        const to = frame.edges[frame.i++] as string;
        if (!index.has(to)) visit(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(to) ?? 0));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      for (;;) {
        const n = stack.pop() as string;
        onStack.delete(n);
        component.push(n);
        if (n === frame.node) break;
      }
      if (component.length > 1 || graph.get(frame.node)?.has(frame.node)) cycles.push(component.sort());
    }
  }
  return cycles;
}

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
