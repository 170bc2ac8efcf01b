import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { holdZombie, isProcessAlive } from '../src/netns/index';

describe('isProcessAlive', () => {
  it('is true for a running process and for this one', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(process.ppid)).toBe(true);
  });

  it('is false for a pid that no longer exists', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid as number;
    await new Promise((r) => child.once('exit', r));
    // Node reaps its own children: once 'exit' fired, the pid is gone.
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('is false for a zombie: exited, not yet reaped by its parent', async () => {
    const zombie = await holdZombie();
    try {
      expect(readFileSync(`/proc/${zombie.pid}/stat`, 'utf8')).toMatch(/\) Z /);
      // signal 0 still succeeds on a zombie; liveness must not.
      expect(() => process.kill(zombie.pid, 0)).not.toThrow();
      expect(isProcessAlive(zombie.pid)).toBe(false);
    } finally {
      zombie.release();
    }
  });
});
