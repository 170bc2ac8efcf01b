import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const script = fileURLToPath(new URL('./with-cpu-load.mjs', import.meta.url));

/** Burner processes started by `parent` (they carry its pid as their argument). */
function burnersOf(parent: number): string[] {
  const ps = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes('for (;;)') && l.trim().endsWith(` ${parent}`));
}

describe('with-cpu-load', () => {
  it('runs the command beside busy processes, passes its exit code on and stops them', async () => {
    // The command counts the burners running beside it (matching their script text), then fails.
    const run = spawnSync(
      process.execPath,
      [script, '--burners', '2', '--', 'sh', '-c', 'ps -eo args= | grep -c "[f]or (;;)"; exit 3'],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(3);
    expect(Number(run.stdout.trim())).toBeGreaterThanOrEqual(2);
    expect(run.stderr).toMatch(/with-cpu-load: exit 3 after \d+ s under load/);
    // SIGKILLed on the way out; the kernel may take a moment to reap them.
    await vi.waitFor(() => expect(burnersOf(run.pid!)).toEqual([]), { timeout: 10_000, interval: 100 });
  });

  it('refuses a call without a command', () => {
    const run = spawnSync(process.execPath, [script, '--burners', 'x'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('usage:');
  });
});
