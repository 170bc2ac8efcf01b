import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, buildSync } from 'esbuild';
import { BODY_BANNER, IMPORT_META_URL_NAME, loaderSource, produceCodeCache } from './code-cache';
import { sweepDeadOwnerDirs } from './dead-owner-dirs';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Each bundle's temp dir: `na-bundle-<pid of the process that made it>-<random>`. */
const BUNDLE_PREFIX = 'na-bundle-';

/**
 * Removes the bundles of processes that have gone. A vitest worker is stopped without running
 * exit hooks, so the bundle a worker made for its binary tests outlives it; the next bundle made
 * and the run's end (tools/bundle/sweep-setup.ts) clear them.
 */
export function sweepBundles(dir: string = tmpdir()): string[] {
  return sweepDeadOwnerDirs(dir, BUNDLE_PREFIX);
}

/** A bundled entry point: the file to run with node, and how to remove its temp dir. */
export interface BundledEntry {
  file: string;
  /** With `codeCache`: the CommonJS body, for code that must `require()` the bundle. */
  commonJs?: string;
  dispose(): void;
}

/** Options for `bundleEntry`. */
export interface BundleOptions {
  /**
   * A V8 code cache beside the bundle (code-cache.ts): the entry becomes a small loader that runs
   * a CommonJS body with it. For what the micro-VM runs, where compiling the bundle is most of a
   * Node start. An entry with top-level await cannot be built this way (esbuild's CommonJS has none).
   */
  codeCache?: boolean;
}

/**
 * Bundles a TypeScript entry (workspace packages resolved to their sources) into one ESM file in
 * a fresh temp dir. Node loads one file instead of tsx transpiling and resolving hundreds of
 * modules: a kubelet started through tsx costs about 3 CPU-s before it runs a line (0.3 s
 * bundled), and under the micro-VM's TCG that transpiling alone took minutes on a busy host.
 * Tests that start a binary many times, and the scenarios the micro-VM runs, run this instead.
 * The guest sees the host's /tmp, so the bundle is where the micro-VM expects it. Native
 * `netlink` and `koffi` stay external, by absolute path. A bundle has no relay/ directory beside it: code
 * opening IPVS in another namespace passes `relayPath` (packages/ipvs/relay/netns-relay.mjs of this
 * checkout); openIpvs rejects the call otherwise.
 */
export function bundleEntry(
  entry: string,
  /** esbuild `define`s, e.g. the version stamp apps/ binaries read when they have no package.json. */
  define: Record<string, string> = {},
  options: BundleOptions = {},
): BundledEntry {
  sweepBundles();
  const dir = mkdtempSync(join(tmpdir(), `${BUNDLE_PREFIX}${process.pid}-`));
  const file = join(dir, 'entry.mjs');
  const commonJs = options.codeCache ? join(dir, 'body.cjs') : undefined;
  try {
    if (commonJs) buildWithCodeCache(entry, define, commonJs, file);
    else buildSync({ ...buildOptions(entry, define), outfile: file });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { file, commonJs, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The esbuild options every bundle shares (ESM; `buildWithCodeCache` turns them into CommonJS). */
function buildOptions(entry: string, define: Record<string, string>): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@nodeagent/source'],
    alias: {
      netlink: join(repoRoot, 'node_modules/netlink/dist/index.js'),
      // koffi finds its addon beside its own files: loaded from node_modules, as netlink is.
      koffi: join(repoRoot, 'node_modules/koffi/index.js'),
      // Node deprecated its built-in punycode (DEP0040, a warning on every start from Node 21):
      // the userland copy the dependencies mean, as tools/sea bundles it.
      punycode: join(repoRoot, 'node_modules/punycode/punycode.js'),
    },
    external: [
      join(repoRoot, 'node_modules/netlink/dist/index.js'),
      join(repoRoot, 'node_modules/koffi/index.js'),
    ],
    define,
    logLevel: 'error',
    // Less to parse: loading the bundle is most of the micro-VM guest's start-up time under TCG.
    minify: true,
    // Error classes name themselves from their constructor (`IpvsAlreadyExistsError`), as in the
    // shipped packages.
    keepNames: true,
    // CommonJS dependencies inside an ESM bundle need require().
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  };
}

/**
 * `entry.mjs` as a loader, `body.cjs` the bundle as CommonJS, and its V8 code cache, named by the
 * body's hash (code-cache.ts). The body's `#!` line (an app's cli.ts) becomes a comment: it sits
 * inside the loader's function wrapper (and the line numbers stay).
 */
function buildWithCodeCache(entry: string, define: Record<string, string>, body: string, file: string): void {
  buildSync({
    ...buildOptions(entry, { ...define, 'import.meta.url': IMPORT_META_URL_NAME }),
    format: 'cjs',
    // No import() in a body run with a code cache (code-cache.ts): esbuild makes it require().
    supported: { 'dynamic-import': false },
    banner: { js: BODY_BANNER },
    outfile: body,
  });
  const source = readFileSync(body, 'utf8').replace(/^#!/, '//');
  writeFileSync(body, source);
  const cacheName = `body-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.v8cache`;
  produceCodeCache(body, join(dirname(body), cacheName));
  writeFileSync(file, loaderSource('body.cjs', cacheName));
}

/**
 * An app's command line (apps/<name>/src/cli.ts) bundled with its package version stamped in, as
 * tools/sea stamps it, removed when this process exits.
 */
export function bundleAppCli(app: 'kubelet' | 'kube-proxy'): string {
  const appDir = join(repoRoot, 'apps', app);
  const { version } = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { version: string };
  const bundle = bundleEntry(join(appDir, 'src', 'cli.ts'), {
    __NODEAGENT_VERSION__: JSON.stringify(version),
  });
  process.once('exit', () => bundle.dispose());
  return bundle.file;
}
