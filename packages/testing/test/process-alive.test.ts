import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../src/netns/index';

const holders: ChildProcess[] = [];
afterEach(() => {
  for (const h of holders.splice(0)) h.kill('SIGKILL');
});

function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2];
  } catch {
    return undefined;
  }
}

/**
 * A zombie that stays one while the test runs, as on a machine whose init reaps orphans late: a
 * shell starts `true` in the background, then execs into `sleep`, which never reaps it.
 */
async function makeZombie(): Promise<number> {
  const holder = spawn('sh', ['-c', 'true & echo $!; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  holders.push(holder);
  const pid = await new Promise<number>((resolve) => {
    holder.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  while (stateOf(pid) !== 'Z') await new Promise((r) => setTimeout(r, 10));
  return pid;
}

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
    const pid = await makeZombie();
    expect(stateOf(pid)).toBe('Z');
    // signal 0 still succeeds on a zombie; liveness must not.
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(isProcessAlive(pid)).toBe(false);
  });
});
