export declare const SEA_SENTINEL_FUSE: string;
export interface BuiltExecutable {
  name: string;
  path: string;
  version: string;
  node: string;
}
export declare function buildSea(options?: {
  outDir?: string;
  names?: string[];
  log?: (message: string) => void;
}): Promise<BuiltExecutable[]>;
