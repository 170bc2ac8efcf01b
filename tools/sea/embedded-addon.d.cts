export declare function addonDirs(): string[];
export declare function loadAddonBytes(bytes: Uint8Array, name: string, dirs?: string[]): unknown;
export declare function loadEmbeddedAddon(assetKey: string): unknown;
