import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_CACHE_ENV, sharedBuild, sweepRunCaches } from './run-cache';

const root = mkdtempSync(join(tmpdir(), `na-run-cache-test-${process.pid}-`));
const before = process.env[RUN_CACHE_ENV];

beforeAll(() => {
  process.env[RUN_CACHE_ENV] = root;
});
afterAll(() => {
  if (before === undefined) delete process.env[RUN_CACHE_ENV];
  else process.env[RUN_CACHE_ENV] = before;
  rmSync(root, { recursive: true, force: true });
});

/** A PID no process has any more: a child that has exited. */
function deadPid(): number {
  const pid = spawnSync('true').pid;
  if (!pid) throw new Error('no child started');
  return pid;
}

describe('sharedBuild', () => {
  it('builds once for callers that ask at the same time, and hands each the recorded result', async () => {
    let builds = 0;
    const build = async (dir: string) => {
      builds++;
      writeFileSync(join(dir, 'out'), 'x');
      await new Promise((r) => setImmediate(r));
      return { file: join(dir, 'out') };
    };
    const results = await Promise.all([sharedBuild('once', build), sharedBuild('once', build)]);
    expect(builds).toBe(1);
    expect(results[1]).toEqual(results[0]);
    expect(existsSync(results[0].file)).toBe(true);
    expect(await sharedBuild('once', build)).toEqual(results[0]);
    expect(builds).toBe(1);
  });

  it('takes over the lock of a builder that has gone, and builds', async () => {
    mkdirSync(join(root, 'orphan.lock'));
    writeFileSync(join(root, 'orphan.lock', 'pid'), String(deadPid()));
    expect(await sharedBuild('orphan', async () => 7)).toBe(7);
    expect(existsSync(join(root, 'orphan.lock'))).toBe(false);
  });

  it('releases the lock when a build fails, so the next caller builds again', async () => {
    await expect(
      sharedBuild('fails', async () => {
        throw new Error('compiler said no');
      }),
    ).rejects.toThrow('compiler said no');
    expect(existsSync(join(root, 'fails.lock'))).toBe(false);
    expect(await sharedBuild('fails', async () => 'second')).toBe('second');
  });
});

describe('sweepRunCaches', () => {
  it("removes a dead run's cache and keeps a live one's", () => {
    const dir = join(root, 'tmp');
    mkdirSync(join(dir, `na-run-cache-${deadPid()}-abc`), { recursive: true });
    mkdirSync(join(dir, `na-run-cache-${process.pid}-def`), { recursive: true });
    expect(sweepRunCaches(dir)).toEqual([expect.stringMatching(/^na-run-cache-\d+-abc$/)]);
    expect(existsSync(join(dir, `na-run-cache-${process.pid}-def`))).toBe(true);
  });
});
