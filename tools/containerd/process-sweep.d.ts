/** Inode numbers of the network namespaces bind-mounted at `paths` (missing paths are skipped). */
export declare function netnsInodes(paths: string[]): Promise<Set<string>>;
/**
 * PIDs whose network namespace is one of `inodes`. containerd, its shims and every container of a
 * private containerd live in its netns or in a pod netns it created, so this finds exactly what we
 * started and nothing of anyone else's.
 */
export declare function pidsInNetns(inodes: Set<string>): Promise<number[]>;
export declare function killQuietly(pid: number, signal: NodeJS.Signals): void;
export declare function isAlive(pid: number): boolean;
export declare function waitForExit(pids: number[], timeoutMs: number): Promise<boolean>;
/** Mount points at or below `dir`, deepest first (the order they must be unmounted in). */
export declare function mountsUnder(dir: string): Promise<string[]>;
export declare function unmountAllUnder(dir: string): Promise<void>;
//# sourceMappingURL=process-sweep.d.ts.map
