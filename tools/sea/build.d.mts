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
  execArgv: readonly string[];
}
export declare const DEFAULT_BUILD_OPTIONS: Readonly<SeaBuildOptions>;
export declare function buildSea(options?: {
  outDir?: string;
  names?: string[];
  log?: (message: string) => void;
  options?: Partial<SeaBuildOptions>;
}): Promise<BuiltExecutable[]>;
