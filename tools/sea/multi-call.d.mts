import type { SeaBuildOptions, SeaBundle } from './build.mjs';
import type { SeaTarget } from './targets.mjs';
export declare const MULTI_CALL_NAME: string;
/** The agent a target is ('kubelet', 'kube-proxy'). */
export declare function agentOf(target: SeaTarget): string;
/** The main script that runs one of `agents` by the name it was started under, or by its first argument. */
export declare function multiCallLauncher(agents: { agent: string; launcher: string }[]): string;
/** Builds `nodeagent` and a link per agent into `outDir`. */
export declare function buildMultiCall(options?: {
  outDir?: string;
  log?: (message: string) => void;
  options?: Partial<SeaBuildOptions>;
  bundler?: (target: SeaTarget, workDir: string, options: SeaBuildOptions) => Promise<SeaBundle>;
}): Promise<{ path: string; links: string[]; node: string }>;
