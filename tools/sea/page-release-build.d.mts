export declare const PAGE_RELEASE_SOURCE: string;
/** `<prefix>/include/node` beside `<prefix>/bin/node`; SeaBuildError NODE_HEADERS without node_api.h. */
export declare function nodeIncludeDir(node: string): string;
/** Compiles the page-release addon to `output`; SeaBuildError PAGE_RELEASE_COMPILE when `cc` fails. */
export declare function buildPageReleaseAddon(output: string, includeDir: string, cc?: string): string;
