import { existsSync, readFileSync } from 'node:fs';

/**
 * What `npm test` took, file by file: written by the times reporter to `test-results/test-times.json`
 * after every run, and read back from `tools/build/test-times.json` (a copy of one such file,
 * committed) by the longest-first sequencer.
 */
export interface TestTimes {
  /** The whole run, from the first file queued to the last one done, in seconds. */
  wallSeconds: number;
  /** Repository-relative test file → seconds from being queued (worker start, imports) to done. */
  files: Record<string, number>;
}

/** The committed timings the sequencer orders by (refresh: copy a run's test-results/test-times.json). */
export const COMMITTED_TEST_TIMES = new URL('./test-times.json', import.meta.url);

/** The timings in `file`; none when there is no such file (a fresh checkout before any run). */
export function readTestTimes(file: URL | string): TestTimes | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as TestTimes;
}
