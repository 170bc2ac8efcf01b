import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { COMMITTED_TEST_TIMES, readTestTimes } from './test-times.ts';

/**
 * Starts the longest test files first, across every project: on two workers, the order that ends
 * soonest. vitest's own order runs project after project, each longest first only by its cache,
 * which a fresh clone lacks and which counts a file's tests but not its `beforeAll` (where the
 * micro-VM boots): a long file of a late project could start when the rest was done and leave a
 * worker idle. Times come from the committed `tools/build/test-times.json`, a copy of one run's
 * `test-results/test-times.json` (worker start to done, hooks included); a file it does not list
 * counts as short (most likely a new unit test).
 */
export class LongestFirstSequencer extends BaseSequencer {
  private readonly committed = readTestTimes(COMMITTED_TEST_TIMES)?.files ?? {};

  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (spec: TestSpecification) =>
      this.committed[relative(this.ctx.config.root, spec.moduleId)] ?? 0;
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
