export interface HeapTrimState {
  live: number;
  last: number;
  collectedAt: number;
  trailing: boolean;
}
export declare const CHECK_INTERVAL_MS: number;
export declare const SLACK_BYTES: number;
export declare const MIN_GAP_MS: number;
export declare const MAX_GAP_MS: number;
export declare function check(
  state: HeapTrimState,
  heapUsed: () => number,
  gc: () => void,
  now: number,
): HeapTrimState;
export declare function startHeapTrim(
  gc?: unknown,
  heapUsed?: () => number,
  intervalMs?: number,
): (() => void) | undefined;
