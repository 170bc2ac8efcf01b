/** The SEA asset key of the addon. */
export declare const EXTERNAL_SOURCE_ADDON_ASSET: string;
/** Compiles external-source.c for the runtime at `node` (…/bin/node) into `workDir`; returns its path. */
export declare function compileExternalSourceAddon(node: string, workDir: string): string;
