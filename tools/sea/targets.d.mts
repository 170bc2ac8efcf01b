export declare const KUBERNETES_VERSION: string;
export interface SeaTarget {
  name: string;
  appDir: string;
  entry: string;
  /** Bundle the entry through a static import (tree-shaken) rather than require(). */
  importEntry: boolean;
  /** V8's --max-semi-space-size for the executable (MB). */
  maxSemiSpaceSizeMb?: number;
  /** Embed the code cache made after a training start of the app (build.mjs), unless the build says otherwise. */
  trainCodeCache?: boolean;
  /** client-node's proxy agents (socks-proxy-agent, hpagent) loaded at their first use, not at start. */
  lazyProxyAgents?: boolean;
}
export declare function seaTargets(): SeaTarget[];
