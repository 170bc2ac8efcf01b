import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOOP_PRELOAD, type LoopReport } from './loop-preload';
import { LoopReportPipe } from './loop-report-pipe';

const dir = mkdtempSync(join(tmpdir(), 'na-soak-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LoopReportPipe', () => {
  it("takes the preload's lines through a named pipe, every line across the preload's opens and closes", async () => {
    const preload = join(dir, 'preload.cjs');
    writeFileSync(preload, LOOP_PRELOAD);
    const pipe = LoopReportPipe.open(join(dir, 'agent.loop'));
    try {
      expect(statSync(pipe.path).isFIFO()).toBe(true);
      // Five 100 ms periods, then it exits: each line is its own open, append and close.
      const child = spawn(process.execPath, ['--require', preload, '-e', 'setTimeout(() => {}, 560)'], {
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          NA_SOAK_LOOP_REPORT: pipe.path,
          NA_SOAK_LOOP_PERIOD_MS: '100',
        },
        stdio: 'ignore',
      });
      const status = await new Promise((resolve) => child.once('exit', resolve));
      expect(status).toBe(0);
      const lines: LoopReport[] = [];
      // The last lines may still be on their way through the bench's event loop.
      for (let i = 0; i < 100 && lines.length < 4; i++) {
        lines.push(...pipe.take());
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(lines.length).toBeGreaterThanOrEqual(4);
      expect(lines.every((l) => l.spaces.old_space !== undefined && typeof l.maxMs === 'number')).toBe(true);
      expect(pipe.take()).toEqual([]);
    } finally {
      pipe.close();
    }
    expect(() => statSync(pipe.path)).toThrow();
  });
});
