import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { TEST_TIERS, type TestTier, testTier } from './test-tiers.ts';
import type { TestTimes } from './test-times.ts';

/**
 * Times every test file from being queued (its worker starting, its imports) to done, hooks
 * included, which vitest's own per-file durations leave out. Writes them to `outputFile` after
 * each run, and with `printTiers` prints the run's wall time and each tier's: how many files,
 * their summed time and the span from the tier's first file queued to its last one done.
 */
export class TestTimesReporter implements Reporter {
  private root = process.cwd();
  private readonly queued = new Map<string, number>();
  private readonly seconds = new Map<string, number>();
  private firstQueued: number | undefined;

  constructor(private readonly options: { outputFile: string; printTiers: boolean; now?: () => number }) {}

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
  }

  onTestModuleQueued(module: TestModule): void {
    const now = this.now();
    this.firstQueued ??= now;
    this.queued.set(module.moduleId, now);
  }

  onTestModuleEnd(module: TestModule): void {
    const started = this.queued.get(module.moduleId);
    if (started !== undefined) this.seconds.set(module.moduleId, (this.now() - started) / 1000);
  }

  onTestRunEnd(): void {
    if (this.firstQueued === undefined) return;
    const times: TestTimes = {
      wallSeconds: round((this.now() - this.firstQueued) / 1000),
      files: Object.fromEntries(
        [...this.seconds]
          .map(([id, s]) => [relative(this.root, id), round(s)] as const)
          .sort(([a], [b]) => (a < b ? -1 : 1)),
      ),
    };
    mkdirSync(dirname(this.options.outputFile), { recursive: true });
    writeFileSync(this.options.outputFile, `${JSON.stringify(times, null, 2)}\n`);
    if (this.options.printTiers) process.stdout.write(this.tierTable(times));
  }

  private tierTable(times: TestTimes): string {
    const rows = new Map<TestTier, { files: number; seconds: number; from: number; to: number }>();
    for (const [id, seconds] of this.seconds) {
      const tier = testTier(relative(this.root, id));
      const from = ((this.queued.get(id) ?? 0) - (this.firstQueued ?? 0)) / 1000;
      const row = rows.get(tier) ?? { files: 0, seconds: 0, from, to: from + seconds };
      row.files++;
      row.seconds += seconds;
      row.from = Math.min(row.from, from);
      row.to = Math.max(row.to, from + seconds);
      rows.set(tier, row);
    }
    const lines = [`\nnpm test: ${times.wallSeconds.toFixed(0)} s wall; per tier (files, summed s, span s):`];
    for (const tier of TEST_TIERS) {
      const row = rows.get(tier);
      if (row)
        lines.push(
          `  ${tier.padEnd(20)} ${String(row.files).padStart(4)} ${row.seconds.toFixed(0).padStart(6)} ${row.from.toFixed(0).padStart(5)}-${row.to.toFixed(0)}`,
        );
    }
    return `${lines.join('\n')}\n`;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
