import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdZombie } from '@nodeagent/testing/netns';
import { afterEach, describe, expect, it } from 'vitest';
import { AlreadyRunningError } from '../src/errors';
import { acquireRunLock } from '../src/run-lock';

const dirs: string[] = [];
function lockPath(): string {
  const dir = mkdtempSync(join(tmpdir(), `na-demo-lock-${process.pid}-`));
  dirs.push(dir);
  return join(dir, 'demo.lock');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('acquireRunLock', () => {
  it('writes our PID and removes the file on release', () => {
    const path = lockPath();
    const lock = acquireRunLock(path);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a second run while the first is alive, naming its PID', () => {
    const path = lockPath();
    // The "first run" is a live process other than us: the test process's parent.
    writeFileSync(path, `${process.ppid}\n`);
    let error: unknown;
    try {
      acquireRunLock(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AlreadyRunningError);
    expect((error as AlreadyRunningError).value).toBe(process.ppid);
    expect((error as Error).message).toMatch(/another node-in-a-box demo is running/);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.ppid));
  });

  it('takes over a lock left by a dead process', () => {
    const path = lockPath();
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(path, `${dead}\n`);
    const lock = acquireRunLock(path);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });

  it('takes over a lock held by a zombie: a killed run that init has not reaped yet', async () => {
    const path = lockPath();
    // As a SIGKILLed demo stays for seconds on a machine whose init reaps late.
    const zombie = await holdZombie();
    try {
      writeFileSync(path, `${zombie.pid}\n`);
      const lock = acquireRunLock(path);
      expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
      lock.release();
    } finally {
      zombie.release();
    }
  });

  it('does not remove a lock that another run took over', () => {
    const path = lockPath();
    const lock = acquireRunLock(path);
    writeFileSync(path, `${process.ppid}\n`);
    lock.release();
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.ppid));
  });
});

describe('run records', () => {
  it('hands the record of a dead run to the run that takes over its lock', () => {
    const path = lockPath();
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString(),
    );
    const first = acquireRunLock(path, dead);
    first.record({ stateDir: '/tmp/nodeagent-demo-x', runtimeDir: '/tmp/na-ctrd-y' });
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(String(dead));
    const second = acquireRunLock(path);
    expect(second.previous).toEqual({
      pid: dead,
      stateDir: '/tmp/nodeagent-demo-x',
      runtimeDir: '/tmp/na-ctrd-y',
    });
    second.release();
    expect(existsSync(path)).toBe(false);
  });
});
