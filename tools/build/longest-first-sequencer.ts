import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { COMMITTED_TEST_TIMES, readTestTimes } from './test-times.ts';

/** A file that takes at least this long is placed by its own time, not with its project's. */
export const LONG_FILE_SECONDS = 5;

/**
 * Starts the longest test files first, across every project: on two workers, the order that ends
 * soonest. vitest's own order runs project after project, each longest first only by its cache,
 * which a fresh clone lacks and which counts a file's tests but not its `beforeAll` (where the
 * micro-VM boots): a long file of a late project could start when the rest was done and leave a
 * worker idle. Times come from the committed `tools/build/test-times.json`, a copy of one run's
 * `test-results/test-times.json` (worker start to done, hooks included); a file it does not list
 * counts as short (most likely a new unit test).
 *
 * The short files follow, project by project (the project with the most time first): workers are
 * not isolated, and vitest hands a worker, with the modules it has already imported, to the next
 * queued file only when that file is of the same project; interleaved, every short file would
 * start a new worker and import its sources again.
 */
export class LongestFirstSequencer extends BaseSequencer {
  private readonly committed = readTestTimes(COMMITTED_TEST_TIMES)?.files ?? {};

  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (spec: TestSpecification) =>
      this.committed[relative(this.ctx.config.root, spec.moduleId)] ?? 0;
    return longestFirstThenByProject(
      files.map((spec) => ({ spec, project: spec.project.name, seconds: seconds(spec) })),
    ).map((file) => file.spec);
  }
}

/** One file to order: its project's name and its committed time. */
export interface TimedFile<T> {
  spec: T;
  project: string;
  seconds: number;
}

/** The long files longest first, then the short ones grouped by project, each group longest first. */
export function longestFirstThenByProject<T>(files: TimedFile<T>[]): TimedFile<T>[] {
  const byTime = (a: TimedFile<T>, b: TimedFile<T>) => b.seconds - a.seconds;
  const long = files.filter((file) => file.seconds >= LONG_FILE_SECONDS).sort(byTime);
  const projects = new Map<string, TimedFile<T>[]>();
  for (const file of files.filter((f) => f.seconds < LONG_FILE_SECONDS)) {
    const group = projects.get(file.project) ?? [];
    group.push(file);
    projects.set(file.project, group);
  }
  const total = (group: TimedFile<T>[]) => group.reduce((sum, file) => sum + file.seconds, 0);
  const groups = [...projects.values()].sort((a, b) => total(b) - total(a));
  return [...long, ...groups.flatMap((group) => group.sort(byTime))];
}
