export interface PageRelease {
  /** Drops the executable's resident file pages from this process; returns the bytes released. */
  releaseExecutablePages(): number;
  /**
   * Drops the executable file's page cache (pages still mapped stay); returns the bytes that left
   * it, -1 when the file cannot be read.
   */
  evictExecutableCache(): number;
  /** glibc malloc_trim(0); true when memory was returned to the kernel. */
  releaseMallocFree(): boolean;
}
export declare const ASSET_KEY: string;
export declare function loadPageRelease(): PageRelease | undefined;
