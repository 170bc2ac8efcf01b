import { createHash } from 'node:crypto';
import { sharedBuild } from '../bundle/run-cache';
import {
  type BuiltExecutable,
  buildSea,
  bundleTarget,
  DEFAULT_BUILD_OPTIONS,
  type SeaBundle,
} from './build.mjs';
import { buildMultiCall } from './multi-call.mjs';
import { NODE24_VERSION } from './node-runtime.mjs';
import { type SeaTarget, seaTargets } from './targets.mjs';

// The single executables and their bundles, built once per test run with the default options and
// shared by the files that test them (tools/bundle/run-cache.ts): making one executable costs
// ~1.3 CPU-s of esbuild and ~5 CPU-s (and ~0.9 GB) of postject, and four files wanted three
// kube-proxies, a kubelet and both bundles again.

/** Names a build by what it is made from besides the sources (the run's tree: tools/bundle/run-cache.ts). */
function buildKey(kind: string, name: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([kind, name, NODE24_VERSION, DEFAULT_BUILD_OPTIONS]))
    .digest('hex');
  return `${kind}-${name}-${hash.slice(0, 16)}`;
}

function target(name: string): SeaTarget {
  const t = seaTargets().find((x) => x.name === name);
  if (!t) throw new Error(`no single-executable target ${name}`);
  return t;
}

/** The run's bundle of one target with the default options (its file stays in the run's cache). */
export function sharedSeaBundle(name: string): Promise<SeaBundle> {
  return sharedBuild(buildKey('bundle', name), (dir) => bundleTarget(target(name), dir));
}

/**
 * The run's single executable of one target with the default options, from the run's bundle.
 * Tests copy it where they run it (it is shared; nothing may change it).
 */
export function sharedSeaExecutable(name: string): Promise<BuiltExecutable> {
  return sharedBuild(buildKey('sea', name), async (dir) => {
    const [built] = await buildSea({
      outDir: dir,
      names: [name],
      bundler: (t) => sharedSeaBundle(t.name),
    });
    if (!built) throw new Error(`tools/sea/build.mjs built no ${name}`);
    return built;
  });
}

/** The run's multi-call executable and its links (multi-call.mjs), from the run's bundles. */
export function sharedMultiCall(): Promise<{ path: string; links: string[]; node: string }> {
  return sharedBuild(buildKey('multi-call', 'nodeagent'), (dir) =>
    buildMultiCall({ outDir: dir, bundler: (t) => sharedSeaBundle(t.name) }),
  );
}
