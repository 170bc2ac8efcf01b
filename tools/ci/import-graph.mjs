// The import graph of a TypeScript source tree and its cycles, for the architecture tests of
// every package (packages/*/test/architecture.test.ts): one home, so the kubelet's layer check
// and kube-proxy's mode check read imports the same way. Types in import-graph.d.mts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Every import specifier of a TypeScript file: static, `import type`, `export … from`, side-effect
 * and dynamic imports. The compiler's own pre-processor reads them, so specifiers inside strings or
 * comments do not count and none is missed by a regex's idea of the syntax.
 */
export function importSpecifiers(text) {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
}

/** The `.ts` files under `dir` (declaration files left out), at any depth. */
function typeScriptFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** `./a` (or `./a.js`) → `a.ts` or `a/index.ts`; undefined for a file that is not there. */
function resolveRelative(fromFile, specifier) {
  const base = resolve(dirname(fromFile), specifier.replace(/\.(js|ts)$/, ''));
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

/**
 * The relative imports among the `.ts` files under `root` (tests beside the source included), as
 * file (relative to root) → the files it imports; type-only imports count.
 */
export function importGraphOf(root) {
  const graph = new Map();
  for (const file of typeScriptFiles(root)) {
    const edges = new Set();
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = resolveRelative(file, specifier);
      if (target) edges.add(relative(root, target));
    }
    graph.set(relative(root, file), edges);
  }
  return graph;
}

/**
 * Tarjan's strongly connected components: every component of two files or more, and every file
 * importing itself, is an import cycle (members sorted). Iterative, so a long chain of imports
 * cannot overflow the stack.
 */
export function importCycles(graph) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const cycles = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [];
    const visit = (node) => {
      index.set(node, next);
      low.set(node, next);
      next++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: [...(graph.get(node) ?? [])], i: 0 });
    };
    visit(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame.i < frame.edges.length) {
        const to = frame.edges[frame.i++];
        if (!index.has(to)) visit(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node), index.get(to)));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node), low.get(frame.node)));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component = [];
      for (;;) {
        const member = stack.pop();
        onStack.delete(member);
        component.push(member);
        if (member === frame.node) break;
      }
      if (component.length > 1 || graph.get(frame.node)?.has(frame.node)) cycles.push(component.sort());
    }
  }
  return cycles;
}
