import type { SeaTarget } from './targets.mjs';
export declare const SEA_SENTINEL_FUSE: string;
export interface BuiltExecutable {
  name: string;
  path: string;
  version: string;
  node: string;
}
export interface SeaBuildOptions {
  minify: boolean;
  useCodeCache: boolean;
  /** Drop the @kubernetes/client-node modules the app imports nothing from (its generated models). */
  sideEffectFreeClientNode: boolean;
  /** Hand node-fetch Node's URL instead of bundling the whatwg-url/tr46 polyfill it never uses. */
  nodeUrlForNodeFetch: boolean;
  /** Give client-node's hand-written modules a generated-layer index of only what they use (no models). */
  narrowGenIndex: boolean;
  /** Narrow client-node's package index to the modules the apps use (config, patch, middleware, types). */
  narrowClientNodeIndex: boolean;
  /** Answer pino's caller lookup (used only to resolve a transport's relative target) with none. */
  noPinoCallers: boolean;
  /** Extra esbuild plugins (to try a change to the bundle and measure it); none by default. */
  plugins?: readonly unknown[];
  /** Node/V8 flags every target gets, after its `--max-semi-space-size`. */
  execArgv: readonly string[];
  /** The semi-space cap (MB) for every target built, instead of each target's maxSemiSpaceSizeMb. */
  maxSemiSpaceSizeMb?: number;
  /** The bundle as an asset behind a launcher that answers --version before compiling it (not with useCodeCache). */
  appAsAsset: boolean;
  /** With appAsAsset: V8 reads the app's source from the executable's mapped pages, not from a copy on its heap (external-source.c). */
  externalAppSource: boolean;
  /** With appAsAsset: V8's code cache of the app's bundle, made by the executable's Node and flags, as a second asset. */
  appCodeCache: boolean;
  /**
   * With appCodeCache: train every target's cache (true) or none (false) after a start of the app
   * (code-cache-training.ts); unset, each target's `trainCodeCache`. The top-level cache if training fails.
   */
  trainCodeCache?: boolean;
  /** Strip the runtime's symbol tables and debug sections (binutils' strip) before injecting the blob. */
  stripSymbols: boolean;
  /** client-node's proxy agents loaded at their first use (true) or at start (false); unset, each target's `lazyProxyAgents`. */
  lazyProxyAgents?: boolean;
}
/** The esbuild plugin that gives client-node's config.js proxy agents loaded at their first `new`. */
export declare const lazyProxyAgents: { name: string; setup(build: unknown): void };
export declare const DEFAULT_BUILD_OPTIONS: Readonly<SeaBuildOptions>;
/** The executable's Node/V8 flags: the target's `--max-semi-space-size`, then `options.execArgv`. */
export declare function targetExecArgv(target: SeaTarget, options?: SeaBuildOptions): string[];
/** Whether the build trains `target`'s code cache: `options.trainCodeCache` if set, else the target's own. */
export declare function trainsCodeCache(target: SeaTarget, options?: Partial<SeaBuildOptions>): boolean;
/** The main script that answers --version, then compiles the app's bundle (an asset) with its code cache. */
export declare function launcher(
  target: SeaTarget,
  version: string,
  bundlePath: string,
  options?: { codeCache?: boolean; externalSource?: boolean; appAsset?: string; codeCacheAsset?: string },
): string;
/** One app behind a launcher: the launcher's source and the assets (the app's script, code cache, source addon) it reads. */
export declare function packApp(
  runtime: { node: string; postject: string; version: string },
  target: SeaTarget,
  bundle: SeaBundle,
  workDir: string,
  execArgv: string[],
  opts: SeaBuildOptions,
  log: (message: string) => void,
  keys?: { appAsset: string; codeCacheAsset: string },
): { launcher: string; assets: Record<string, string> };
/** Copies the runtime to `output` (stripped unless told otherwise) and injects the SEA blob made from `script` and `assets`. */
export declare function makeExecutable(
  runtime: { node: string; postject: string },
  script: string,
  output: string,
  workDir: string,
  assets?: Record<string, string>,
  options?: SeaBuildOptions,
): string;
export interface SeaBundle {
  outfile: string;
  version: string;
  warnings: { text: string }[];
  assets: Record<string, string>;
  /** Bytes each source file (relative to the repository root) contributed to the bundle. */
  inputs: Record<string, number>;
}
/** Bundle one target into `workDir` (the executable's script, before injection). */
export declare function bundleTarget(
  target: SeaTarget,
  workDir: string,
  options?: SeaBuildOptions,
): Promise<SeaBundle>;
export declare function buildSea(options?: {
  outDir?: string;
  names?: string[];
  log?: (message: string) => void;
  options?: Partial<SeaBuildOptions>;
  /** Makes each target's bundle (default bundleTarget); its files must outlive the build. */
  bundler?: (target: SeaTarget, workDir: string, options: SeaBuildOptions) => Promise<SeaBundle>;
}): Promise<BuiltExecutable[]>;
