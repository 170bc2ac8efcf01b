import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ensureNode24 } from './node-runtime.mjs';
import type * as WorkerPriority from './worker-priority.cjs';

const { lowerWorkerPriority, workerThreadIds } = createRequire(import.meta.url)(
  './worker-priority.cjs',
) as typeof WorkerPriority;

const dir = mkdtempSync(join(tmpdir(), `na-worker-priority-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

/** A /proc/<pid>/task look-alike: one directory per thread id with its `comm` (none: a thread gone while read). */
function taskDir(name: string, threads: Record<number, string | undefined>): string {
  const root = join(dir, name);
  for (const [id, comm] of Object.entries(threads)) {
    mkdirSync(join(root, id), { recursive: true });
    if (comm !== undefined) writeFileSync(join(root, id, 'comm'), `${comm}\n`);
  }
  return root;
}

describe('lowerWorkerPriority', () => {
  it("sets the nice of V8's worker threads only, not the main thread's or libuv's", () => {
    const tasks = taskDir('mixed', { 10: 'MainThread', 11: 'V8Worker', 12: 'V8Worker', 13: 'libuv-worker' });
    const set: Array<[number, number]> = [];
    const count = lowerWorkerPriority(19, {
      taskDir: tasks,
      setPriority: (id, nice) => set.push([id, nice]),
    });
    expect(count).toBe(2);
    expect(set.sort()).toEqual([
      [11, 19],
      [12, 19],
    ]);
  });

  it('skips a thread that exited while it was listed or set, without a warning', () => {
    const tasks = taskDir('exiting', { 20: 'V8Worker', 21: undefined, 22: 'V8Worker' });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const count = lowerWorkerPriority(19, {
      taskDir: tasks,
      setPriority: (id) => {
        if (id === 20) throw Object.assign(new Error('no such process'), { code: 'ESRCH' });
      },
    });
    expect(workerThreadIds(tasks).sort()).toEqual([20, 22]);
    expect(count).toBe(1);
    expect(warn).not.toHaveBeenCalled();
  });

  it('warns with its code and the value when a priority cannot be set, and does not throw', () => {
    const tasks = taskDir('refused', { 30: 'V8Worker' });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const count = lowerWorkerPriority(19, {
      taskDir: tasks,
      setPriority: () => {
        throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' });
      },
    });
    expect(count).toBe(0);
    expect(warn).toHaveBeenCalledWith(
      "V8 worker threads keep the process's priority, not nice 19: operation not permitted",
      { code: 'NODEAGENT_WORKER_PRIORITY' },
    );
  });

  it('warns when the thread list cannot be read', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    expect(lowerWorkerPriority(19, { taskDir: join(dir, 'absent'), setPriority: () => undefined })).toBe(0);
    expect(warn.mock.calls[0]?.[0]).toMatch(
      /^V8 worker threads keep the process's priority, not nice 19: ENOENT/,
    );
  });
});

describe("in the executables' Node 24", () => {
  it('lowers every V8 worker to nice 19 once the app emits nodeagent:started, and nothing before', () => {
    const modulePath = fileURLToPath(new URL('./worker-priority.cjs', import.meta.url));
    // Each thread's name and nice (field 19 of /proc/self/task/<id>/stat, counted after the name).
    const script = `const fs = require('node:fs');
const threads = () => fs.readdirSync('/proc/self/task').map((id) => {
  const stat = fs.readFileSync('/proc/self/task/' + id + '/stat', 'utf8');
  return [fs.readFileSync('/proc/self/task/' + id + '/comm', 'utf8').trimEnd(), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
});
require(${JSON.stringify(modulePath)}).lowerWorkerPriorityAfterStart(19);
const before = threads();
process.emit('nodeagent:started');
process.stdout.write(JSON.stringify({ before, after: threads() }));`;
    const r = spawnSync(ensureNode24().node, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    const { before, after } = JSON.parse(r.stdout) as Record<'before' | 'after', Array<[string, number]>>;
    const workers = after.filter(([name]) => name === 'V8Worker');
    expect(workers.length).toBeGreaterThan(0);
    // The process's own nice is whatever the suite runs at; the threads start with it.
    const own = before.find(([name]) => name === 'MainThread')?.[1];
    expect(before.every(([, nice]) => nice === own)).toBe(true);
    expect(workers.every(([, nice]) => nice === 19)).toBe(true);
    expect(after.filter(([name]) => name !== 'V8Worker').every(([, nice]) => nice === own)).toBe(true);
  });
});
