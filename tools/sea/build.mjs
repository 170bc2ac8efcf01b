#!/usr/bin/env node
// Build the reference binaries as Node single executable applications (SEA):
//   1. esbuild bundles each app's CLI entry (workspace packages from their TypeScript sources via
//      the `@nodeagent/source` condition, every dependency inlined) into one CommonJS script,
//      because SEA runs exactly one CJS script;
//   2. the Node 24 binary from the npm package generates the preparation blob
//      (`--experimental-sea-config`); the blob must come from the same binary it is injected into;
//   3. postject injects the blob into a copy of that binary as the NODE_SEA_BLOB note and flips
//      the sentinel fuse.
// Usage: node tools/sea/build.mjs [--out dist/bin] [name ...]
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { APP_SCRIPT_LINE_OFFSET, appScriptSource } from './app-script.cjs';
import { runBuildStep } from './build-step.mjs';
import { compileExternalSourceAddon, EXTERNAL_SOURCE_ADDON_ASSET } from './external-source.mjs';
import { compileLibcCallsAddon } from './libc-calls.mjs';
import { nativeAddons } from './native-addons.mjs';
import { ensureNode24, REPO_ROOT } from './node-runtime.mjs';
import { SeaBuildError } from './sea-build-error.mjs';
import { KUBERNETES_VERSION, seaTargets } from './targets.mjs';

/** Node's documented sentinel; postject flips it so the runtime looks for the blob. */
export const SEA_SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * What runs before the app: the `--version` answer (the version is fixed at build time). A
 * CommonJS module of its own, so the main script can import it ahead of the app.
 */
function preamble(target, version) {
  return versionAnswer(target, version);
}

/** The preamble's `--version` answer (also the launcher's, so that --version never compiles the app). */
function versionAnswer(target, version) {
  const banner = `${target.name} v${version}`;
  return `
const argv = process.argv.slice(2);
const end = argv.indexOf('--');
const flags = end === -1 ? argv : argv.slice(0, end);
// Upstream's --version: exactly one line (kubeadm parses it whole); --version=raw adds the build.
if (flags.includes('--version') || flags.includes('--version=true')) {
  process.stdout.write(${JSON.stringify(`Kubernetes ${KUBERNETES_VERSION}`)} + '\\n');
  process.exit(0);
}
if (flags.includes('--version=raw')) {
  const platform = process.platform + '/' + (process.arch === 'x64' ? 'amd64' : process.arch);
  process.stdout.write(${JSON.stringify(`version.Info{Major:"${KUBERNETES_VERSION.slice(1).split('.')[0]}", Minor:"${KUBERNETES_VERSION.split('.')[1]}", GitVersion:"${KUBERNETES_VERSION}", GitCommit:"", GitTreeState:"", BuildDate:"", GoVersion:"", Compiler:"node", Platform:"`)} + platform + '"}\\n');
  process.stdout.write(${JSON.stringify(banner)} + ' (node ' + process.version + ', ' + platform + ')\\n');
  process.exit(0);
}
`;
}

/** The asset that holds the app's script (the bundle in app-script.cjs's wrapper) when the launcher is the main script (see `launcher`). */
const APP_ASSET = 'nodeagent-app.cjs';
/** The asset that holds V8's code cache of the app's bundle (see `appCodeCache`). */
const APP_CODE_CACHE_ASSET = 'nodeagent-app.code-cache';
/** embedded-addon.cjs, which the launcher carries inline: a main script can require built-in modules only. */
const EMBEDDED_ADDON = join(dirname(new URL(import.meta.url).pathname), 'embedded-addon.cjs');

/**
 * The launcher's lines that read the app's script into `appSource` ({ text, copied, why }). With
 * `externalSource`, a string over the asset where the executable is mapped (external-source.c):
 * V8 keeps a script's source while the script lives, and a copy of it is anonymous memory
 * the kernel cannot reclaim, of bytes the page cache holds anyway. Where the addon cannot be
 * loaded (every place it may be written is mounted noexec), the copy.
 */
function appSourceLines(appAsset, externalSource) {
  const copy = `sea.getAsset(${JSON.stringify(appAsset)}, 'utf8')`;
  if (!externalSource) return `const appSource = { text: ${copy}, copied: true, why: 'built so' };\n`;
  return `let appSource;
try {
  const { loadAddonBytes } = ((module) => {
${readFileSync(EMBEDDED_ADDON, 'utf8')}
return module.exports;
  })({ exports: {} });
  const addon = loadAddonBytes(new Uint8Array(sea.getRawAsset(${JSON.stringify(EXTERNAL_SOURCE_ADDON_ASSET)})), 'external-source.node');
  appSource = { ...addon.externalLatin1(sea.getRawAsset(${JSON.stringify(appAsset)})), why: 'V8 copies a short string' };
} catch (err) {
  appSource = { text: ${copy}, copied: true, why: err.message };
}
`;
}

/**
 * The executable's main script when the app travels as an asset (option `appAsAsset`): it
 * answers --version before the app's source is even read, then compiles the app's script as
 * Node's CommonJS loader would (same require, module, file name; one vm.Script of the bundle in
 * app-script.cjs's wrapper, which the asset already holds). With `codeCache` it hands V8 the cache
 * made at build time (`appCodeCache`, `trainedCodeCache`), which a main script cannot have; V8
 * checks it against its version, flags and the source, and compiles from the source when it does
 * not fit. With `externalSource`, the source stays in the executable's pages (`appSourceLines`).
 * NODEAGENT_SEA_TRACE=1 says on stderr where the source is, which cache was taken, and its size.
 */
export function launcher(
  target,
  version,
  bundlePath,
  {
    codeCache = false,
    externalSource = false,
    appAsset = APP_ASSET,
    codeCacheAsset = APP_CODE_CACHE_ASSET,
  } = {},
) {
  const cachedData = codeCache ? 'cachedData, ' : '';
  const cache = codeCache
    ? `const cachedData = Buffer.from(sea.getRawAsset(${JSON.stringify(codeCacheAsset)}));\n`
    : '';
  // The size tells a trained cache (the kubelet's ~4 MB) from a top-level one (~0.9 MB).
  const cacheTrace = codeCache
    ? `  process.stderr.write('nodeagent-sea: app code cache ' + (app.cachedDataRejected ? 'rejected' : 'accepted') + ' (' + cachedData.length + ' bytes)\\n');
`
    : '';
  return `'use strict';
${versionAnswer(target, version)}const vm = require('node:vm');
const sea = require('node:sea');
${cache}${appSourceLines(appAsset, externalSource)}const app = new vm.Script(
  appSource.text,
  { filename: ${JSON.stringify(bundlePath)}, lineOffset: ${APP_SCRIPT_LINE_OFFSET}, ${cachedData}importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER },
);
if (process.env.NODEAGENT_SEA_TRACE === '1') {
  process.stderr.write('nodeagent-sea: app source ' + (appSource.copied ? 'copied to the heap (' + appSource.why + ')' : 'in the executable') + ' (' + appSource.text.length + ' bytes)\\n');
${cacheTrace}}
app.runInThisContext()(exports, require, module, __filename, __dirname);
`;
}

/**
 * V8's code cache of the app's bundle, made by the executable's own Node with its V8 flags (a
 * cache from another V8 or other flags is rejected): the bundle compiled as the launcher compiles
 * it, and the cache taken before any of it runs, so it holds what that compile makes anyway (the
 * top level; functions stay lazily compiled). Returns the cache file.
 */
function appCodeCache(runtime, bundlePath, workDir, execArgv) {
  const script = join(workDir, 'make-code-cache.cjs');
  const out = `${bundlePath}.code-cache`;
  writeFileSync(
    script,
    `'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const vm = require('node:vm');
const { APP_SCRIPT_LINE_OFFSET, appScriptSource } = require(${JSON.stringify(join(REPO_ROOT, 'tools/sea/app-script.cjs'))});
const [source, out] = process.argv.slice(2);
const app = new vm.Script(appScriptSource(readFileSync(source, 'utf8')), {
  filename: source,
  lineOffset: APP_SCRIPT_LINE_OFFSET,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
writeFileSync(out, app.createCachedData());
`,
  );
  runBuildStep(runtime.node, [...execArgv, script, bundlePath, out], 'CODE_CACHE_FAILED');
  return out;
}

/**
 * The trained code cache (option `trainCodeCache`): the bundle run once against test doubles
 * and the cache written after its start (code-cache-training.ts), so it also holds every
 * function the start compiled. A training that fails (no root for kube-proxy's network
 * namespace, a start that never finishes) is logged and leaves `undefined`: the caller keeps the
 * top-level cache, and the executable works the same, only its start compiles more.
 */
function trainedCodeCache(runtime, target, bundlePath, workDir, execArgv, log) {
  const out = join(workDir, `${target.name}.trained-code-cache`);
  rmSync(out, { force: true });
  const request = { target: target.name, node: runtime.node, execArgv, bundle: bundlePath, out };
  const t0 = process.hrtime.bigint();
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@nodeagent/source',
      join(REPO_ROOT, 'tools/sea/code-cache-training.ts'),
      JSON.stringify(request),
    ],
    // The run's own limit is 60 s for the app's start; this one covers a hang around it.
    { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 },
  );
  const seconds = (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1);
  if (result.status === 0 && existsSync(out)) {
    log(`code cache (${target.name}): trained, ${statSync(out).size} bytes, ${seconds} s`);
    return out;
  }
  const why = `${result.error?.message ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-6).join('\n');
  log(
    `code cache (${target.name}): training failed after ${seconds} s, keeping the top-level cache:\n${why}`,
  );
  return undefined;
}

const PREAMBLE_MODULE = 'nodeagent-sea:preamble';

/**
 * The script that becomes the executable's main: the preamble, then the app's CLI entry
 * unchanged. With `target.importEntry`, static imports, which run in order and let esbuild
 * drop every module whose exports go unused: a require() of the entry makes esbuild wrap the
 * app's module graph for lazy evaluation, and then it keeps every module's unused exports (for
 * kube-proxy, the Kubernetes client's whole model layer). Otherwise require(), see targets.mjs
 * for which app gets which and why.
 */
function entryWrapper(target) {
  const load = target.importEntry
    ? (m) => `import ${JSON.stringify(m)};`
    : (m) => `require(${JSON.stringify(m)});`;
  return `${load(PREAMBLE_MODULE)}\n${load(target.entry)}\n`;
}

/** Serves the preamble module to the bundle. */
function preamblePlugin(target, version) {
  return {
    name: 'sea-preamble',
    setup(b) {
      b.onResolve({ filter: /^nodeagent-sea:preamble$/ }, () => ({
        path: PREAMBLE_MODULE,
        namespace: 'nodeagent-sea',
      }));
      // The apps' package.json says "sideEffects": false (true of their library modules); the CLI
      // entry is imported for exactly its side effect, running the program.
      b.onResolve({ filter: /.*/ }, (args) =>
        args.path === target.entry ? { path: target.entry, sideEffects: true } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'nodeagent-sea' }, () => ({
        contents: preamble(target, version),
        resolveDir: REPO_ROOT,
        loader: 'js',
      }));
    },
  };
}

/**
 * Node deprecated its built-in `punycode` (DEP0040) and prints a warning on every start when a
 * bundled dependency (tr46/whatwg-url under the Kubernetes client) requires it; the userland
 * package of the same name has the same API, so bundle that instead.
 */
const userlandPunycode = {
  name: 'userland-punycode',
  setup(b) {
    b.onResolve({ filter: /^punycode$/ }, () => ({
      path: join(REPO_ROOT, 'node_modules', 'punycode', 'punycode.js'),
    }));
  },
};

/** node-fetch's files, whichever node_modules resolved them. */
const NODE_FETCH_DIR = /[\\/]node_modules[\\/]node-fetch[\\/]/;

/**
 * node-fetch 2 (the Kubernetes client's HTTP layer) imports `whatwg-url` but only reads its
 * `URL` when Node's own `url.URL` is missing (`Url.URL || whatwgUrl.URL`), which it never is on
 * Node >= 10. The import alone loads whatwg-url and tr46 with its Unicode mapping table: 300 KB
 * of script and ~2.7 MB of heap for nothing. node-fetch gets a module that hands it Node's URL.
 */
const nodeUrlForNodeFetch = {
  name: 'node-url-for-node-fetch',
  setup(b) {
    b.onResolve({ filter: /^whatwg-url$/ }, (args) =>
      NODE_FETCH_DIR.test(args.importer)
        ? { path: 'whatwg-url', namespace: 'nodeagent-node-url' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'nodeagent-node-url' }, () => ({
      contents: 'const { URL } = require("node:url");\nmodule.exports = { URL };\n',
      loader: 'js',
    }));
  },
};

/** Where @kubernetes/client-node's files live, whichever node_modules resolved them. */
const CLIENT_NODE_DIR = /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]/;

/**
 * Treat @kubernetes/client-node's modules as free of side effects, as a package.json
 * `"sideEffects": false` would (the package does not say, so esbuild must assume the worst).
 * Its index re-exports every module, and a few of them run code at load (serializer.js fills a
 * model registry that references ObjectSerializer, whose type table names all ~2,500 generated
 * models), so without this the kube-proxy bundle carried the whole model layer although it only
 * uses KubeConfig. No client-node module changes global state when loaded (no polyfills, no
 * process hooks), so dropping the ones nothing imports a binding from changes nothing at run time;
 * what an app does use is still bundled whole, as published.
 */
const sideEffectFreeClientNode = {
  name: 'side-effect-free-client-node',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === sideEffectFreeClientNode) return undefined;
      const inPackage = CLIENT_NODE_DIR.test(args.importer);
      if (!inPackage && !args.path.startsWith('@kubernetes/client-node')) return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: sideEffectFreeClientNode,
      });
      // Anything else (a dependency of client-node, a failure) resolves as without this plugin.
      if (resolved.errors.length > 0 || !CLIENT_NODE_DIR.test(resolved.path)) return undefined;
      return { ...resolved, sideEffects: false };
    });
  },
};

/**
 * The proxy agents @kubernetes/client-node's config.js imports at load (`socks-proxy-agent` with
 * `socks`, `ip-address`, `agent-base` and `debug`; `hpagent`) and constructs only for a cluster
 * with a `proxy-url`. client-node gets a module per package whose classes load the real one at
 * their first `new`, so a start without a proxy never evaluates them (issue #51: 2.7-3.8 ms of
 * the kubelet's main thread under the V8 profiler, which slows a start about twice; too little
 * to show in a start's CPU-seconds). The real packages are still bundled whole, behind esbuild's
 * lazy `require`; a proxied cluster behaves as before (lazy-proxy-agents.test.ts).
 */
const LAZY_PROXY_AGENTS = Object.freeze({
  'socks-proxy-agent': ['SocksProxyAgent'],
  hpagent: ['HttpProxyAgent', 'HttpsProxyAgent'],
});
export const lazyProxyAgents = {
  name: 'lazy-client-node-proxy-agents',
  setup(b) {
    b.onResolve({ filter: /^(socks-proxy-agent|hpagent)$/ }, async (args) => {
      // pluginData: another plugin's (or this one's) own resolve of the package, which must not loop.
      if (!CLIENT_NODE_DIR.test(args.importer) || args.pluginData !== undefined) return undefined;
      const real = await b.resolve(args.path, {
        kind: 'require-call',
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: lazyProxyAgents,
      });
      if (real.errors.length > 0) return undefined;
      return { path: args.path, namespace: 'nodeagent-lazy-proxy-agent', pluginData: real.path };
    });
    b.onLoad({ filter: /.*/, namespace: 'nodeagent-lazy-proxy-agent' }, (args) => ({
      // `new` of a function that returns an object gives that object: the real agent.
      contents:
        `let real;\nconst load = () => (real ??= require(${JSON.stringify(args.pluginData)}));\n` +
        LAZY_PROXY_AGENTS[args.path]
          .map((name) => `export function ${name}(...args) {\n  return new (load().${name})(...args);\n}\n`)
          .join(''),
      resolveDir: REPO_ROOT,
      loader: 'js',
    }));
  },
};

/** A module at the top of client-node's dist/ (index.js, config.js, ...), not in its generated layer. */
const CLIENT_NODE_TOP = /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/][^\\/]+\.js$/;

/**
 * client-node's hand-written modules import from `./gen/index.js`, the generated layer's index,
 * which re-exports every model and typed API; the package index re-exports it whole. Where the
 * app's entry is required (the kubelet: see targets.mjs), esbuild wraps the modules for lazy
 * evaluation and keeps everything such an index exports, so KubeConfig alone brought the ~560 KB
 * of models into the script and ~2,500 model classes into the heap. Those imports get an index
 * of what those modules use from there (KubeConfig: `createConfiguration`, `ServerConfiguration`;
 * the object/log/metrics clients: `ApiException`, `HttpMethod`), from the modules that define
 * them; api.js, which re-exports the whole layer to the package index, gets the same. An app
 * that imports another generated export (a model class, a typed API) fails the build with
 * esbuild's "No matching export" instead of misbehaving at run time; the agents use only type
 * imports from there.
 */
const narrowGenIndex = {
  name: 'narrow-client-node-gen-index',
  setup(b) {
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) =>
      CLIENT_NODE_TOP.test(args.importer)
        ? { path: join(args.resolveDir, 'gen', 'kubeconfig-imports.js'), namespace: 'nodeagent-gen-index' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'nodeagent-gen-index' }, (args) => ({
      contents:
        "export { createConfiguration } from './configuration.js';\n" +
        "export { ServerConfiguration } from './servers.js';\n" +
        "export { ApiException } from './apis/exception.js';\n" +
        "export { HttpMethod } from './http/http.js';\n",
      resolveDir: join(args.path, '..'),
      loader: 'js',
    }));
  },
};

/**
 * The package index of @kubernetes/client-node, as the apps import it, narrowed to the modules
 * whose exports they use at run time: `KubeConfig` (config.js), `PatchStrategy` (patch.js),
 * `setHeaderOptions` (middleware.js), `V1MicroTime` (types.js); everything else they take from the
 * package is a type. Where the app's entry is required (the kubelet: see targets.mjs), esbuild wraps
 * the modules for lazy evaluation and the index's initialisation evaluates every module it
 * re-exports at start: exec, attach, port-forward, log, top, metrics, the informer and cache, cp
 * (with tar-fs, tar-stream and streamx), object and yaml clients, node-fetch's errors (issue #51). A
 * name taken from any other module fails the build with esbuild's "No matching export" instead of
 * misbehaving at run time. client-node's own modules import each other by path, untouched.
 */
const NARROW_CLIENT_NODE_INDEX = Object.freeze(['config.js', 'patch.js', 'middleware.js', 'types.js']);
const narrowClientNodeIndex = {
  name: 'narrow-client-node-index',
  setup(b) {
    b.onResolve({ filter: /^@kubernetes\/client-node$/ }, (args) => {
      if (CLIENT_NODE_DIR.test(args.importer)) return undefined;
      const index = join(REPO_ROOT, 'node_modules', '@kubernetes', 'client-node', 'dist', 'index.js');
      return existsSync(index) ? { path: index, namespace: 'nodeagent-client-node-index' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'nodeagent-client-node-index' }, (args) => ({
      contents: NARROW_CLIENT_NODE_INDEX.map((file) => `export * from './${file}';\n`).join(''),
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * pino's `lib/caller.js` as a function that finds no callers. pino calls it at every `pino()` to
 * resolve a transport's relative target against its callers' files; `util.getCallSites()` there
 * makes V8 build the line table of the whole 4 MB bundle (the largest self-time item of a kubelet
 * start, issue #51: CPU-ms minima of 40 starts to the kubeconfig error 169/163/152 -> 156/152/143
 * over three rounds). Neither agent uses a transport, and a transport (a worker thread loading
 * modules by path) cannot load inside a single executable anyway: a relative target would now
 * fail with pino's own "unable to determine transport target", an absolute one is unaffected.
 */
const noPinoCallers = {
  name: 'no-pino-callers',
  setup(b) {
    b.onResolve({ filter: /^\.\/(lib\/)?caller$/ }, (args) =>
      /[\\/]node_modules[\\/]pino[\\/]/.test(args.importer)
        ? { path: 'pino-caller', namespace: 'nodeagent-pino-caller' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'nodeagent-pino-caller' }, () => ({
      contents: 'module.exports = function getCallers() { return []; };\n',
      loader: 'js',
    }));
  },
};

/**
 * How the executables are built, chosen by measuring the running daemons
 * (apps/kube-proxy/bench/rss.bench.ts, apps/kubelet/bench/rss.bench.ts); see README.md, "Memory".
 */
export const DEFAULT_BUILD_OPTIONS = Object.freeze({
  /**
   * Whitespace and syntax minification (names kept, so stack traces still name functions).
   * V8 keeps a script's whole source in the heap for lazy compilation; the bundle's comments
   * also held a few non-Latin-1 characters (µ, →, —) that made it a two-byte string, twice
   * its length. ASCII output keeps it one-byte.
   */
  minify: true,
  /** V8 code cache in the blob: faster start, but its pages and the bytecode it eagerly creates count as memory. */
  useCodeCache: false,
  /**
   * Bundle only the @kubernetes/client-node modules the app imports from (see
   * `sideEffectFreeClientNode`): kube-proxy's bundle drops the generated models (3.0 -> 2.4 MB).
   */
  sideEffectFreeClientNode: true,
  /** Node's URL for node-fetch instead of the whatwg-url/tr46 polyfill it never uses (see `nodeUrlForNodeFetch`). */
  nodeUrlForNodeFetch: true,
  /** client-node without its generated layer's index (see `narrowGenIndex`): kubelet script 3.87 -> 3.3 MB. */
  narrowGenIndex: true,
  /** client-node's package index narrowed to the modules the apps use (see `narrowClientNodeIndex`). */
  narrowClientNodeIndex: true,
  /** pino's caller lookup (transports only) answered with none (see `noPinoCallers`). */
  noPinoCallers: true,
  /**
   * Node/V8 flags every target's start gets (SEA `execArgv`; NODE_OPTIONS still applies on top),
   * after the target's own `--max-semi-space-size` (see `targetExecArgv`):
   * none by default. Any flag V8 hashes (`--expose-gc` is one) makes V8 reject Node's code cache
   * of its built-in modules (issue #51).
   * `--optimize-for-size` saved more memory but doubled the CPU of a sync, so it is not used.
   */
  execArgv: Object.freeze([]),
  /**
   * The young generation's semi-space cap (MB) for every target built, instead of each target's
   * `maxSemiSpaceSizeMb` (targets.mjs); unset by default. For benches that try a value.
   */
  maxSemiSpaceSizeMb: undefined,
  /**
   * The bundle as an asset behind a small launcher (see `launcher`), which answers --version
   * without compiling it and can hand V8 a trained code cache. Not with useCodeCache, whose cache
   * covers the main script only.
   */
  appAsAsset: true,
  /**
   * With appAsAsset: V8 reads the app's source from the executable's mapped pages (an external
   * string, external-source.c) instead of a copy, which is anonymous memory (malloc'd) for as
   * long as the process runs (the kubelet's ~5 MB, kube-proxy's ~2.5 MB). The addon is compiled
   * at build time (cc); where it cannot be loaded, the copy. Measured with the build without it
   * beside it for an hour of churn (docs/performance/README.md, "Memory").
   */
  externalAppSource: true,
  /**
   * With appAsAsset: V8's code cache of the app's bundle as a second asset (`appCodeCache`):
   * compiling the kubelet's bundle from the source took 90-126 ms of CPU, from the cache 13-14 ms
   * (apps/kubelet/bench/startup.bench.ts).
   */
  appCodeCache: true,
  /**
   * With appCodeCache: true or false trains every target's cache or none (`trainedCodeCache`,
   * code-cache-training.ts: the cache made after a training start of the app, so it also holds
   * the functions the start compiles; the top-level cache when the training fails); unset, each
   * target's own `trainCodeCache` (targets.mjs: the kubelet yes, kube-proxy no). README.md, "Memory".
   */
  trainCodeCache: undefined,
  /**
   * The Node runtime's symbol tables and debug sections stripped (binutils' `strip --strip-all`)
   * before the blob goes in: 18 MB of the 127 MB runtime that nothing in a running agent reads
   * (the dynamic symbol table, which addons link against, stays). Native frames in `perf` then
   * show addresses instead of C++ names; build with false to profile those.
   */
  stripSymbols: true,
});

/**
 * Escape what esbuild's `charset: 'ascii'` leaves alone (regular expression literals such as
 * /(ns|us|µs|μs|ms)/): one character above U+00FF makes V8 hold the whole multi-megabyte
 * source as a two-byte string. `\uXXXX` means the same in strings, templates, regular
 * expressions and identifiers.
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  if (!/[\u0080-\uffff]/.test(text)) return;
  const escaped = text.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  writeFileSync(file, escaped);
}

/** Bundle one target to a single CJS file; returns its path. */
export async function bundleTarget(target, workDir, options = DEFAULT_BUILD_OPTIONS) {
  if (!existsSync(target.entry))
    throw new SeaBuildError('ENTRY_MISSING', target.entry, 'CLI entry not found');
  const { version } = JSON.parse(readFileSync(join(target.appDir, 'package.json'), 'utf8'));
  const outfile = join(workDir, `${target.name}.cjs`);
  // The runtime is the one the executable carries, cached after its first install.
  const addons = nativeAddons(() => compileLibcCallsAddon(ensureNode24().node, workDir));
  const result = await build({
    stdin: {
      contents: entryWrapper(target),
      resolveDir: REPO_ROOT,
      sourcefile: `${target.name}-sea-main.js`,
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    conditions: ['@nodeagent/source'],
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'silent',
    // The modules that read import.meta.url (apps/*/src/version.ts, @nodeagent/ipvs's relay
    // lookup) fall back to __dirname or the stamped version when it is empty, as it is here.
    logOverride: { 'empty-import-meta': 'silent' },
    metafile: true,
    legalComments: 'none',
    keepNames: true,
    charset: 'ascii',
    minifyWhitespace: options.minify,
    minifySyntax: options.minify,
    // The executable has no package.json beside it: stamp the version in (see apps/*/src/version.ts).
    define: { __NODEAGENT_VERSION__: JSON.stringify(version) },
    plugins: [
      preamblePlugin(target, version),
      // Ahead of sideEffectFreeClientNode, which resolves every import inside client-node.
      ...(options.narrowGenIndex ? [narrowGenIndex] : []),
      ...(options.narrowClientNodeIndex ? [narrowClientNodeIndex] : []),
      ...(options.noPinoCallers ? [noPinoCallers] : []),
      ...((options.lazyProxyAgents ?? target.lazyProxyAgents) ? [lazyProxyAgents] : []),
      ...(options.sideEffectFreeClientNode ? [sideEffectFreeClientNode] : []),
      ...(options.nodeUrlForNodeFetch ? [nodeUrlForNodeFetch] : []),
      // Extra esbuild plugins a caller passes (to try a change to the bundle and measure it).
      ...(options.plugins ?? []),
      addons.plugin,
      ...(existsSync(join(REPO_ROOT, 'node_modules', 'punycode', 'punycode.js')) ? [userlandPunycode] : []),
    ],
  });
  asciiOnly(outfile);
  // What each source file contributed (bytes in the output): what to look at when a bundle grows.
  const inputs = Object.fromEntries(
    Object.entries(Object.values(result.metafile.outputs)[0]?.inputs ?? {}).map(([file, v]) => [
      file,
      v.bytesInOutput,
    ]),
  );
  return { outfile, version, warnings: result.warnings, assets: addons.assets, inputs };
}

/**
 * The executable's Node/V8 flags: `--max-semi-space-size` from the target (or the build's
 * override), then the flags every target gets.
 *
 * V8 lets each young-generation semi-space grow to 16 MB, resident once touched. The cap is
 * per target because what it buys differs (targets.mjs): every scavenge is a main-thread pause,
 * and kube-proxy's large syncs make hundreds of them with 2 MB; the kubelet allocates little at a
 * time and keeps the smaller young generation.
 */
export function targetExecArgv(target, options = DEFAULT_BUILD_OPTIONS) {
  const mb = options.maxSemiSpaceSizeMb ?? target.maxSemiSpaceSizeMb;
  return [...(mb === undefined ? [] : [`--max-semi-space-size=${mb}`]), ...options.execArgv];
}

/** Whether the build trains `target`'s code cache: the build's `trainCodeCache` if set, else the target's. */
export function trainsCodeCache(target, options = DEFAULT_BUILD_OPTIONS) {
  return Boolean(options.trainCodeCache ?? target.trainCodeCache);
}

/**
 * The assets with each native addon (`*.node`) replaced by a copy in `workDir` without its symbol
 * table (`--strip-unneeded` keeps the dynamic symbols it links by): a prebuild may ship them.
 */
function strippedAddons(assets, workDir, strip) {
  return Object.fromEntries(
    Object.entries(assets).map(([key, file]) => {
      if (!key.endsWith('.node')) return [key, file];
      const copy = join(workDir, `stripped-${key.replaceAll('/', '-')}`);
      copyFileSync(file, copy);
      strip(['--strip-unneeded', copy]);
      return [key, copy];
    }),
  );
}

/** Turn a bundled CJS script into an executable at `output` using the given node binary. */
export function makeExecutable(
  { node, postject },
  script,
  output,
  workDir,
  assets = {},
  options = DEFAULT_BUILD_OPTIONS,
) {
  const blob = `${output}.sea.blob`;
  const configPath = join(workDir, `${output.split('/').pop()}.sea-config.json`);
  const strip = (args) =>
    runBuildStep(process.env.STRIP || 'strip', args, 'STRIP_FAILED', 'apt-get install binutils');
  if (options.stripSymbols) assets = strippedAddons(assets, workDir, strip);
  writeFileSync(
    configPath,
    JSON.stringify({
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: options.useCodeCache,
      useSnapshot: false,
      execArgv: [...options.execArgv],
      // Prebuilt native addons the bundle loads through node:sea (see native-addons.mjs).
      assets,
    }),
  );
  runBuildStep(node, ['--experimental-sea-config', configPath]);
  rmSync(output, { force: true });
  copyFileSync(node, output);
  chmodSync(output, 0o755);
  if (options.stripSymbols) strip(['--strip-all', output]);
  runBuildStep(process.execPath, [
    postject,
    output,
    'NODE_SEA_BLOB',
    blob,
    '--sentinel-fuse',
    SEA_SENTINEL_FUSE,
  ]);
  rmSync(blob, { force: true });
  return output;
}

/**
 * One app behind a launcher (option `appAsAsset`): the launcher's source and the assets it reads,
 * the bundle and, with `appCodeCache`, its code cache (trained when the build or target says so),
 * under the given asset keys.
 */
export function packApp(
  runtime,
  target,
  bundle,
  workDir,
  execArgv,
  opts,
  log,
  keys = { appAsset: APP_ASSET, codeCacheAsset: APP_CODE_CACHE_ASSET },
) {
  const codeCache = Boolean(opts.appCodeCache);
  const trained =
    codeCache && trainsCodeCache(target, opts)
      ? trainedCodeCache(runtime, target, bundle.outfile, workDir, execArgv, log)
      : undefined;
  const cache = codeCache && (trained ?? appCodeCache(runtime, bundle.outfile, workDir, execArgv));
  const externalSource = Boolean(opts.externalAppSource);
  // The asset is the script V8 compiles, wrapper included: the launcher hands it over as it is.
  const script = `${bundle.outfile}.script`;
  const text = appScriptSource(readFileSync(bundle.outfile, 'utf8'));
  // A Latin-1 string over UTF-8 bytes would read anything above U+007F wrongly (bundleTarget escapes it).
  const wide = externalSource && /[\u0080-\uffff]/.exec(text);
  if (wide)
    throw new SeaBuildError(
      'NOT_ASCII',
      `${bundle.outfile} at ${wide.index}`,
      'the app source is read as Latin-1 bytes',
    );
  writeFileSync(script, text);
  return {
    launcher: launcher(target, bundle.version, bundle.outfile, { codeCache, externalSource, ...keys }),
    assets: {
      [keys.appAsset]: script,
      ...(cache ? { [keys.codeCacheAsset]: cache } : {}),
      ...(externalSource
        ? { [EXTERNAL_SOURCE_ADDON_ASSET]: compileExternalSourceAddon(runtime.node, workDir) }
        : {}),
    },
  };
}

/** Build the named targets (all by default) into `outDir`; returns what was built. */
export async function buildSea({
  outDir = join(REPO_ROOT, 'dist', 'bin'),
  names,
  log = () => {},
  options = DEFAULT_BUILD_OPTIONS,
  // What makes each target's bundle (tools/sea/shared-sea.ts passes one that reuses the run's).
  bundler = bundleTarget,
} = {}) {
  const opts = { ...DEFAULT_BUILD_OPTIONS, ...options };
  const runtime = ensureNode24({ log });
  const targets = seaTargets().filter((t) => !names || names.length === 0 || names.includes(t.name));
  if (names && names.length > 0 && targets.length !== names.length) {
    throw new SeaBuildError(
      'UNKNOWN_TARGET',
      names.join(','),
      `known: ${seaTargets()
        .map((t) => t.name)
        .join(', ')}`,
    );
  }
  mkdirSync(outDir, { recursive: true });
  const workDir = join(outDir, '.sea-work');
  mkdirSync(workDir, { recursive: true });
  const built = [];
  try {
    for (const target of targets) {
      const bundle = await bundler(target, workDir, opts);
      for (const w of bundle.warnings) log(`warning (${target.name}): ${w.text}`);
      const asAsset = opts.appAsAsset && !opts.useCodeCache;
      const execArgv = targetExecArgv(target, opts);
      const app = asAsset ? packApp(runtime, target, bundle, workDir, execArgv, opts, log) : undefined;
      const main = app ? join(workDir, `${target.name}.launcher.cjs`) : bundle.outfile;
      if (app) writeFileSync(main, app.launcher);
      const appAssets = app?.assets ?? {};
      const output = makeExecutable(
        runtime,
        main,
        join(outDir, target.name),
        workDir,
        { ...bundle.assets, ...appAssets },
        { ...opts, execArgv },
      );
      log(`built ${output} (v${bundle.version}, node ${runtime.version})`);
      built.push({ name: target.name, path: output, version: bundle.version, node: runtime.version });
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const { values, positionals } = parseArgs({
    options: { out: { type: 'string' }, 'multi-call': { type: 'boolean' } },
    allowPositionals: true,
  });
  const outDir = values.out ? resolve(values.out) : undefined;
  const log = (m) => process.stderr.write(`${m}\n`);
  (values['multi-call']
    ? import('./multi-call.mjs').then((m) => m.buildMultiCall({ outDir, log }))
    : buildSea({ outDir, names: positionals, log })
  ).catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
