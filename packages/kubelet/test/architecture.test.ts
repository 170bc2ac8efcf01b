import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ImportGraph, importCycles, importGraphOf } from '../../../tools/ci/import-graph.mjs';

/**
 * The kubelet's source reads in one direction, like upstream's pkg/kubelet sub-packages: every
 * top-level folder (or file) of src/ sits on a layer, and a file imports only from its own folder
 * or from a lower layer. Names on one layer are peers and never import each other.
 */
const KUBELET_LAYERS: readonly (readonly string[])[] = [
  // The base every part may use: the package's errors, timestamps, the logger shape, timers on the Clock.
  ['errors.ts', 'rfc3339.ts', 'kubelet-logger.ts', 'clock-timers.ts'],
  ['metrics.ts'],
  // The Kubernetes API shapes and what is derived from a Pod alone (QoS class).
  ['api'],
  ['data-dirs.ts'],
  ['events'],
  ['certificates'],
  // Container log files and the CRI log format.
  ['logs'],
  // Environment variables, field and resource references a container is started with.
  ['env'],
  // Everything that builds CRI requests: the PodRuntime seam and its CRI implementation,
  // sandbox and container configs, security context, sysctl namespaces, AppArmor and seccomp.
  ['cri'],
  ['cgroups'],
  // KubeletConfiguration: its validation names cgroups (cgroupRoot under the cgroupDriver).
  ['config'],
  ['admission'],
  ['volumes'],
  ['stats'],
  ['images'],
  ['probes'],
  ['pleg'],
  // The pod logic: actions from spec and runtime state, validation, backoff, pod sources.
  ['pod'],
  // The pod status: generation, the status manager and the writer that sends it.
  ['status'],
  ['sources'],
  ['workers'],
  ['sync'],
  ['eviction'],
  ['metrics-collectors'],
  ['kubelet.ts'],
  ['server'],
  // The package's faces: each public subpath (./pod, ./cri ...) and the root.
  ['entries'],
  ['index.ts'],
];

const src = fileURLToPath(new URL('../src', import.meta.url));
const packageJson = fileURLToPath(new URL('../package.json', import.meta.url));

/** The top-level folder a file lies in, or the file's own name at src/'s root. */
function topLevel(file: string): string {
  return file.split('/')[0] as string;
}

/** Imports that run against the layer order: to a higher layer, or between two peers of one layer. */
function layerViolations(graph: ImportGraph, layers: readonly (readonly string[])[]): string[] {
  const layerOf = new Map(layers.flatMap((names, index) => names.map((name) => [name, index] as const)));
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const fromTop = topLevel(from);
    for (const to of targets) {
      const toTop = topLevel(to);
      if (toTop === fromTop) continue;
      const fromLayer = layerOf.get(fromTop);
      const toLayer = layerOf.get(toTop);
      if (fromLayer === undefined || toLayer === undefined || toLayer >= fromLayer)
        out.push(`${from} -> ${to}`);
    }
  }
  return out.sort();
}

function graphOf(edges: Record<string, string[]>): ImportGraph {
  return new Map(Object.entries(edges).map(([from, to]) => [from, new Set(to)]));
}

describe('kubelet layout: folders in layers', () => {
  const graph = importGraphOf(src);

  it('reads the real source tree', () => {
    expect(graph.size).toBeGreaterThan(150);
    expect(graph.get('kubelet.ts')?.size).toBeGreaterThan(10);
  });

  it('places every top-level folder and file of src/ on exactly one layer', () => {
    const declared = KUBELET_LAYERS.flat();
    expect(new Set(declared).size).toBe(declared.length);
    const present = [...new Set([...graph.keys()].map(topLevel))].sort();
    expect(present).toEqual([...declared].sort());
  });

  it('imports only downward: no file imports a higher layer or a peer', () => {
    expect(layerViolations(graph, KUBELET_LAYERS)).toEqual([]);
  });

  it('has no import cycle among its files', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('serves public subpaths from src/entries/, so no folder has an index.ts gathering others', () => {
    const folderIndexes = [...graph.keys()].filter((file) => file.endsWith('/index.ts'));
    expect(folderIndexes).toEqual([]);
    const manifest = JSON.parse(readFileSync(packageJson, 'utf8')) as {
      exports: Record<string, string | { '@nodeagent/source'?: string }>;
    };
    const sources = Object.entries(manifest.exports)
      .filter(([subpath]) => subpath !== './package.json')
      .map(([subpath, target]) => ({
        subpath,
        source: typeof target === 'string' ? target : target['@nodeagent/source'],
      }));
    for (const { subpath, source } of sources) {
      const expected = subpath === '.' ? './src/index.ts' : `./src/entries/${subpath.slice(2)}.ts`;
      expect({ subpath, source }).toEqual({ subpath, source: expected });
      expect(existsSync(join(src, '..', expected))).toBe(true);
    }
  });

  it('reports an upward import, a peer import and an unplaced folder; a downward import passes', () => {
    const layers = [['errors.ts', 'rfc3339.ts'], ['api'], ['cri'], ['sync']];
    const g = graphOf({
      'cri/sandbox-config.ts': ['api/pod-types.ts', 'cri/labels.ts', 'sync/pod-syncer.ts'],
      'errors.ts': ['rfc3339.ts'],
      'sync/pod-syncer.ts': ['cri/sandbox-config.ts', 'errors.ts', 'mystery/thing.ts'],
    });
    expect(layerViolations(g, layers)).toEqual([
      'cri/sandbox-config.ts -> sync/pod-syncer.ts',
      'errors.ts -> rfc3339.ts',
      'sync/pod-syncer.ts -> mystery/thing.ts',
    ]);
  });

  it('reports a cycle and a self-import; a diamond is no cycle', () => {
    const g = graphOf({
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
