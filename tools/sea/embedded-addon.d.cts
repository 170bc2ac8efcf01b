export declare function addonDirs(statfs?: (path: string) => { type: number }): string[];
export declare function loadAddonBytes(bytes: Uint8Array, name: string, dirs?: string[]): unknown;
export declare function loadEmbeddedAddon(assetKey: string): unknown;
export declare function memoryBacked(dir: string, statfs?: (path: string) => { type: number }): boolean;
