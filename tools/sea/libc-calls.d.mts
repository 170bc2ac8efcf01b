/** The SEA asset key of the addon. */
export declare const LIBC_CALLS_ADDON_ASSET: string;
/** Compiles libc-calls.c for the runtime at `node` (…/bin/node) into `workDir`; returns its path. */
export declare function compileLibcCallsAddon(node: string, workDir: string): string;
