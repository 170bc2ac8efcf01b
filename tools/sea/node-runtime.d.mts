export declare const REPO_ROOT: string;
export declare const NODE24_VERSION: string;
export declare const NODE22_VERSION: string;
export declare const POSTJECT_VERSION: string;
export declare const NODE_VERSIONS: Readonly<Record<22 | 24, string>>;
export declare function nodeCacheDir(version?: string): string;
export declare function node24CacheDir(): string;
export interface NodeRuntime {
  node: string;
  postject: string;
  version: string;
}
export declare function ensureNode(
  version: string,
  options?: { log?: (message: string) => void },
): NodeRuntime;
export declare function ensureNode24(options?: { log?: (message: string) => void }): NodeRuntime;
