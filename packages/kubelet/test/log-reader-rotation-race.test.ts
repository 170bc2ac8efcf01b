import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * Issue #36: a `--tail 1` during rotations answered 200 with an empty body. The file states a
 * rotation passes through are built directly; `beforeOpen` runs a rotation step at the moment
 * the reader opens a file it listed, so each race happens every time, with no timing.
 */
const hooks = vi.hoisted(() => ({ beforeOpen: new Map<string, () => Promise<void>>() }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const step = hooks.beforeOpen.get(String(args[0]));
      if (step) {
        hooks.beforeOpen.delete(String(args[0]));
        await step();
      }
      return actual.open(...args);
    },
  };
});

// Workers are not isolated: the reader is imported afresh so it binds to the mock above, and
// dropped again so the worker's next file does not get a reader bound to it.
let readContainerLog: typeof import('../src/logs/container-log-text').readContainerLog;
beforeAll(async () => {
  vi.resetModules();
  ({ readContainerLog } = await import('../src/logs/container-log-text'));
});
afterAll(() => {
  vi.resetModules();
});

const base = Date.UTC(2025, 0, 1);
/** CRI lines from..to, line n logged n ms after base, as `kubectl logs` shows "line n". */
const cri = (from: number, to: number) => {
  let text = '';
  for (let n = from; n <= to; n++) text += `${new Date(base + n).toISOString()} stdout F line ${n}\n`;
  return text;
};

describe('--tail while the log rotates (issue #36)', () => {
  let dir: string;
  let log: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-tail-race-${process.pid}-`));
    log = join(dir, '0.log');
  });
  afterEach(async () => {
    hooks.beforeOpen.clear();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the last lines of the file just renamed when the reopened log is still empty', async () => {
    await writeFile(`${log}.20250101-000000`, cri(1, 10));
    await writeFile(`${log}.20250101-000001`, cri(11, 20));
    await writeFile(log, '');
    expect(await readContainerLog(log, { tailLines: 1 })).toBe('line 20\n');
    expect(await readContainerLog(log, { tailLines: 12 })).toBe(cri(9, 20).replace(/^\S+ stdout F /gm, ''));
  });

  it('answers from a reopened log holding only a line still being written as from an empty one', async () => {
    await writeFile(`${log}.20250101-000000`, cri(1, 10));
    await writeFile(log, `${new Date(base + 11).toISOString()} stdout F li`);
    expect(await readContainerLog(log, { tailLines: 1 })).toBe('line 10\n');
  });

  it('lists again when the rotated files it listed are removed before it opens them', async () => {
    const older = `${log}.20250101-000000`;
    const newest = `${log}.20250101-000000-1`;
    await writeFile(older, cri(1, 10));
    await writeFile(newest, cri(11, 20));
    await writeFile(log, '');
    // The reader holds the empty 0.log and listed both rotated files; before it opens the newest,
    // the runtime fills 0.log and two rotations pass: it is renamed, a fresh 0.log reopened
    // (empty again), and the two files it listed removed as beyond the limit.
    hooks.beforeOpen.set(newest, async () => {
      await writeFile(log, cri(21, 30));
      await rename(log, `${log}.20250101-000000-2`);
      await writeFile(log, '');
      await rm(older);
      await rm(newest);
    });
    expect(await readContainerLog(log, { tailLines: 1 })).toBe('line 30\n');
    expect(hooks.beforeOpen.size).toBe(0);
  });

  it('lists again when the file standing in for a missing log is removed before it opens it', async () => {
    const newest = `${log}.20250101-000000`;
    await writeFile(newest, cri(1, 10));
    // 0.log is missing (renamed, not reopened yet); before the reader opens the renamed file the
    // runtime reopens, writes, and the next rotation renames 0.log and removes the listed file.
    hooks.beforeOpen.set(newest, async () => {
      await writeFile(log, cri(11, 20));
      await rename(log, `${log}.20250101-000001`);
      await rm(newest);
    });
    expect(await readContainerLog(log, { tailLines: 1 })).toBe('line 20\n');
    expect(hooks.beforeOpen.size).toBe(0);
  });

  it('reads a compressed newest file when the log was never reopened', async () => {
    await writeFile(`${log}.20250101-000000.gz`, gzipSync(cri(1, 10)));
    expect(await readContainerLog(log, { tailLines: 2 })).toBe('line 9\nline 10\n');
    expect(await readContainerLog(log, {})).toBe(cri(1, 10).replace(/^\S+ stdout F /gm, ''));
  });

  it('still rejects with ENOENT when the container has no log file at all', async () => {
    await expect(readContainerLog(log, { tailLines: 1 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
