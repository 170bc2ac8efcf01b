import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { type ImportGraph, importCycles, importGraphOf } from '../../../tools/ci/import-graph.mjs';

/**
 * The kubelet's source reads in one direction, like upstream's pkg/kubelet sub-packages: every
 * top-level folder (or file) of src/ sits on a layer, and a file imports only from its own folder
 * or from a lower layer. Names on one layer are peers and never import each other.
 */
const KUBELET_LAYERS: readonly (readonly string[])[] = [
  // The base every part may use: the package's errors, timestamps, the logger shape, timers on the Clock, libc through koffi,
  // a file replaced whole (temporary sibling, sync, rename), a tree removed under a reused name,
  // Go's gRPC code names, x/time/rate's token bucket, the paths of a pod's directories,
  // hashutil.DeepHashObject's FNV-32a over go-spew's print.
  [
    'errors.ts',
    'pod-dirs.ts',
    'rfc3339.ts',
    'kubelet-logger.ts',
    'clock-timers.ts',
    'libc.ts',
    'replace-file.ts',
    'remove-tree.ts',
    'go-grpc-codes.ts',
    'token-bucket.ts',
    'deep-hash.ts',
  ],
  ['metrics.ts'],
  // The Kubernetes API shapes and what is derived from a Pod alone (QoS class).
  ['api'],
  ['data-dirs.ts'],
  // The plugin manager (upstream pkg/kubelet/pluginmanager): the registration directory watched,
  // plugins registered with the handler for their type (CSI drivers, DRA drivers).
  ['pluginmanager'],
  ['events'],
  ['certificates'],
  // Container log files and the CRI log format.
  ['logs'],
  // Environment variables, field and resource references a container is started with.
  ['env'],
  // The ConfigMap and Secret managers (Watch, Cache, Get) that env and volumes read through.
  ['objects'],
  // Everything that builds CRI requests: the PodRuntime seam and its CRI implementation,
  // sandbox and container configs, security context, sysctl namespaces, AppArmor and seccomp.
  ['cri'],
  ['cgroups'],
  // KubeletConfiguration: its validation names cgroups (cgroupRoot under the cgroupDriver).
  ['config'],
  ['admission'],
  // The topology manager (upstream cm/topologymanager): NUMA hints merged by policy and scope, the
  // resource-allocation admit handler over its hint providers.
  ['topologymanager'],
  // The CPU manager (upstream pkg/kubelet/cm/cpumanager): the checkpoint files and checksum both
  // resource managers write, the static policy, its admission handler and the CreateContainer cpuset.
  ['cpumanager'],
  // The memory manager (upstream cm/memorymanager): the Static policy's NUMA machine state and
  // blocks (a topology hint provider), its checkpoint, the CreateContainer cpuset_mems.
  ['memorymanager'],
  // The device manager (upstream cm/devicemanager): device plugins' registration, their devices
  // as Node capacity, allocation at admission (a topology hint provider), its checkpoint.
  ['devicemanager'],
  // The DRA manager (upstream cm/dra): DRA drivers' registration, ResourceClaims prepared before
  // a pod's sandbox and unprepared after its containers, their CDI devices, its checkpoint.
  ['dra'],
  // Upstream's container manager for the resource managers: the CPU, memory and topology managers
  // built from the KubeletConfiguration and started over the kubelet's pods.
  ['resource-managers.ts'],
  // The pod-resources API (upstream apis/podresources): what the device, CPU and memory managers hold, by pod.
  ['podresources'],
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
  // Graceful node shutdown: logind's inhibitor lock, pods stopped by priority at shutdown.
  ['nodeshutdown'],
  // The iptables chains the kubelet keeps for other components (makeIPTablesUtilChains).
  ['network'],
  ['metrics-collectors'],
  // The runtime stack: the CRI client's and the pods' runtime decorators, composed in one place.
  ['runtime-stack.ts'],
  // What a Kubelet is built from (KubeletOptions and its groups).
  ['kubelet-options.ts'],
  // Each part's options read out of KubeletOptions, then the parts built in order.
  ['kubelet-part-options.ts'],
  ['kubelet-parts.ts'],
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

/**
 * The function-typed options sync/ still takes (`Interface.member`), each a call the sync makes
 * back up to whoever built it. Issue #52: the list only shrinks; state the syncs read belongs in
 * a named interface below (PodStateReader, PodRuntimeView, ResizerPods, PodLiveness), not a
 * callback. None of these reads kubelet.ts's state: they are KubeletOptions' own hooks handed on
 * as given (the API's event recorder and RuntimeClass lookup, a test's probe results and sleep,
 * the executable's cleanup hook), a pure check, or where a warning goes. The test fails on a
 * callback not listed and on a listed one that is gone (take it off the list).
 */
const SYNC_CALLBACKS_ALLOWED: readonly string[] = [
  'HookContext.sleep',
  'PodResizerOptions.recordEvent',
  'PodSyncContext.probeResults.readiness',
  'PodSyncContext.probeResults.startup',
  'PodSyncContext.recordEvent',
  'PodSyncerOptions.ephemeralContainerCheck',
  'PodSyncerClusterOptions.runtimeHandler',
  'PodSyncerListenerOptions.onEvent',
  'PodSyncerListenerOptions.onSwapShareError',
  'PodSyncerListenerOptions.onWarning',
  'PodSyncerOptions.sleep',
];

/** Names of the function types a source text declares (`type F = (…) => …`, `interface F { (…): … }`). */
function functionTypeNames(text: string): string[] {
  const file = ts.createSourceFile('f.ts', text, ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  file.forEachChild((node) => {
    if (ts.isTypeAliasDeclaration(node) && isCallableType(node.type, new Set())) names.push(node.name.text);
    if (ts.isInterfaceDeclaration(node) && node.members.some(ts.isCallSignatureDeclaration))
      names.push(node.name.text);
  });
  return names;
}

/** Whether a written type is a function: `(…) => …`, in parentheses, in a union, or a named function type. */
function isCallableType(type: ts.TypeNode, functionTypes: ReadonlySet<string>): boolean {
  if (ts.isFunctionTypeNode(type)) return true;
  if (ts.isParenthesizedTypeNode(type)) return isCallableType(type.type, functionTypes);
  if (ts.isUnionTypeNode(type)) return type.types.some((member) => isCallableType(member, functionTypes));
  return ts.isTypeReferenceNode(type) && functionTypes.has(type.typeName.getText());
}

/**
 * The function-typed members (`Interface.member`) of the options bags a source text declares:
 * interfaces named …Options or …Context. A method signature is one; so is a property whose type
 * is a function, written out or named (`functionTypes`: the package's function type names, read
 * from its source text; a function type imported from another package would go unseen).
 */
function callbackOptions(text: string, functionTypes: ReadonlySet<string>): string[] {
  const file = ts.createSourceFile('f.ts', text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  // An inline group of options (`images?: { … }`) is looked into: grouping does not hide a
  // callback. A named group is an options bag of its own (its name ends in Options).
  const visit = (prefix: string, members: ts.NodeArray<ts.TypeElement>) => {
    for (const member of members) {
      const name = `${prefix}.${member.name?.getText()}`;
      const type = ts.isPropertySignature(member) ? member.type : undefined;
      if (ts.isMethodSignature(member) || (type !== undefined && isCallableType(type, functionTypes)))
        out.push(name);
      else if (type !== undefined && ts.isTypeLiteralNode(type)) visit(name, type.members);
    }
  };
  file.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && /(Options|Context)$/.test(node.name.text))
      visit(node.name.text, node.members);
  });
  return out;
}

/** The text of every `.ts` file under `dir`, at any depth. */
function sourceTexts(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'));
}

describe('kubelet layout: sync/ reads state through named interfaces, not callbacks', () => {
  it('takes no function-typed option outside the shrinking allowed list', () => {
    const functionTypes = new Set(sourceTexts(src).flatMap(functionTypeNames));
    // The names the sync options use: if this failed, the check would no longer see them.
    expect([...functionTypes]).toEqual(
      expect.arrayContaining(['PodEventRecorder', 'EphemeralContainerCheck']),
    );
    const found = sourceTexts(join(src, 'sync')).flatMap((text) => callbackOptions(text, functionTypes));
    expect(found.sort()).toEqual([...SYNC_CALLBACKS_ALLOWED].sort());
  });

  it('reports a written, a parenthesised-union, a named function type and a method, in inline groups too; data and named interfaces pass', () => {
    const functionTypes = new Set(
      functionTypeNames(
        'export type Recorder = (a: string) => void;\ninterface Callable { (a: number): void }\ntype Data = { a: 1 };',
      ),
    );
    expect([...functionTypes]).toEqual(['Recorder', 'Callable']);
    const text = `
      export interface WidgetOptions {
        clock: Clock;
        state: PodStateReader;
        data?: Data;
        inline: (uid: string) => Pod | undefined;
        maybe?: ((uid: string) => void) | undefined;
        recorder?: Recorder;
        callable: Callable;
        method(uid: string): void;
        inlineGroup?: { hook: () => void; period: number };
      }
      export interface WidgetContext { rejection(uid: string): unknown }
      interface NotAnOptionsBag { callback: () => void }`;
    expect(callbackOptions(text, functionTypes)).toEqual([
      'WidgetOptions.inline',
      'WidgetOptions.maybe',
      'WidgetOptions.recorder',
      'WidgetOptions.callable',
      'WidgetOptions.method',
      'WidgetOptions.inlineGroup.hook',
      'WidgetContext.rejection',
    ]);
  });
});

/** The `new` expressions of a source text (`new X(…)`), by the name of what is built. */
function constructions(text: string): string[] {
  const file = ts.createSourceFile('f.ts', text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isNewExpression(node)) out.push(node.expression.getText());
    node.forEachChild(visit);
  };
  visit(file);
  return out;
}

describe('kubelet layout: kubelet.ts is the composition root', () => {
  const text = readFileSync(join(src, 'kubelet.ts'), 'utf8');

  it('builds no part itself (kubelet-parts.ts does) and stays within 300 lines', () => {
    expect(constructions(text)).toEqual([]);
    expect(text.split('\n').length).toBeLessThanOrEqual(300);
  });

  it('finds a construction, nested ones too', () => {
    expect(constructions('const a = new PodCache();\nf(() => new Map(new Set([1])));')).toEqual([
      'PodCache',
      'Map',
      'Set',
    ]);
  });
});
