export declare const RUNC_UNSTABLE_CACHE: string;
export declare const RUNC_UNSTABLE_SERIES: string;
export declare function unstableRuncPath(dir?: string): string;
export declare function unstableLibcDir(dir?: string): string;
export declare function runcUnstablePresent(dir?: string): boolean;
export declare class RuncFetchError extends Error {}
export declare function unpackUnstableRunc(log?: (line: string) => void): void;
