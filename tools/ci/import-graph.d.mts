/** A module graph: file (relative to its root) → the files it imports (type-only imports included). */
export type ImportGraph = Map<string, Set<string>>;

/** Every import specifier of a TypeScript source text (static, type-only, re-export, side-effect, dynamic). */
export declare function importSpecifiers(text: string): string[];

/** The graph of relative imports among the `.ts` files under `root`. */
export declare function importGraphOf(root: string): ImportGraph;

/** Every import cycle (a strongly connected set of two files or more, or a file importing itself), members sorted. */
export declare function importCycles(graph: ImportGraph): string[][];
