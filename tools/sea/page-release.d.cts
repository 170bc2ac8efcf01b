export interface PageRelease {
  /** Drops the executable's resident file pages from this process; returns the bytes released. */
  releaseExecutablePages(): number;
  /**
   * Drops the executable file's page cache (pages still mapped stay) when its resident pages sit
   * in large folios or that cannot be told; returns the bytes that left it (0 when it was left
   * alone), -1 when the file cannot be read.
   */
  evictExecutableCache(): number;
  /**
   * Whether over a quarter of a sample of the executable's resident pages are parts of large
   * folios; null when it cannot be told (page frames are shown to root only). The addon has it;
   * optional here because the heap trim, this interface's user, does not call it.
   */
  executableInLargeFolios?(): boolean | null;
  /** glibc malloc_trim(0); true when memory was returned to the kernel. */
  releaseMallocFree(): boolean;
}
export declare const ASSET_KEY: string;
export declare function loadPageRelease(): PageRelease | undefined;
