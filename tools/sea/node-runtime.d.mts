export declare const REPO_ROOT: string;
export declare const NODE24_VERSION: string;
export declare const POSTJECT_VERSION: string;
export declare function node24CacheDir(): string;
export declare function ensureNode24(options?: { log?: (message: string) => void }): {
  node: string;
  postject: string;
  version: string;
};
