import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureNode24, REPO_ROOT } from './node-runtime.mjs';

// V8's memory reducer on the Node 24 the executables carry, with and without
// keepV8MemoryReducerAlive (@nodeagent/primitives/free-heap-release): a burst of allocation
// leaves pages in V8's pool, then the process idles. Times below are V8's own (milliseconds since
// the isolate started, as its trace prints them), never this test's clock. The child is a file:
// `node -e` compiles its text as a vm script, which is the very allocation under test.
const MODULE = join(REPO_ROOT, 'packages/primitives/src/v8-memory-reducer.ts');
const CHILD = `
(async () => {
  if (process.argv[2] === 'pulse') (await import(process.argv[3])).keepV8MemoryReducerAlive();
  let keep = [];
  for (let round = 0; round < 60; round++) {
    for (let i = 0; i < 20000; i++) keep.push({ a: i, b: 'x' + i });
    if (keep.length > 400000) keep = [];
    await new Promise((r) => setTimeout(r, 20));
  }
  keep = [];
  setTimeout(() => {}, 600000);
})();
`;

interface Trace {
  child: ChildProcess;
  lines: string[];
}

const dir = mkdtempSync(join(tmpdir(), `na-v8-memory-reducer-${process.pid}-`));
const script = join(dir, 'burst-then-idle.cjs');
writeFileSync(script, CHILD);

function start(mode: 'pulse' | 'none'): Trace {
  const { node } = ensureNode24();
  const child = spawn(
    node,
    [
      '--no-warnings',
      '--trace-gc',
      '--trace-gc-ignore-scavenger',
      '--trace-memory-reducer',
      script,
      mode,
      MODULE,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(`stderr: ${l}`));
  return { child, lines };
}

/** V8's time of a trace line (`[pid:isolate]  1234 ms: ...`). */
const v8Ms = (line: string): number => Number(/\]\s+(\d+) ms:/.exec(line)?.[1]);
/** What V8 keeps after a full collection (`... -> used (committed) MB, pooled: N MB`): committed and pooled, MB. */
const keptMb = (line: string): number => {
  const m = /-> [\d.]+ \(([\d.]+)\) MB, pooled: ([\d.]+) MB/.exec(line);
  return m ? Number(m[1]) + Number(m[2]) : Number.NaN;
};
const REDUCE = /Mark-Compact \(reduce\)/;
const REGULAR = /Mark-Compact (?!\(reduce\))/;
/** The reducer's watchdog: a memory-reducing collection after 100 s without a full one. */
const WATCHDOG_MS = 100_000;

describe("V8's memory reducer on Node 24", { timeout: 300_000 }, () => {
  const runs: Trace[] = [];
  afterAll(() => {
    for (const r of runs) r.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands the pooled pages back after a burst only with an empty vm.Script a minute; without, every tick reads a high rate', async () => {
    const pulsed = start('pulse');
    const control = start('none');
    runs.push(pulsed, control);
    const exited = Promise.race([once(pulsed.child, 'exit'), once(control.child, 'exit')]);
    let waiting = true;
    void exited.then(() => {
      waiting = false;
    });
    // Until the pulsed process reduced, or its V8 clock passed the watchdog's time without it.
    const pastWatchdog = () => {
      const regular = pulsed.lines.filter((l) => REGULAR.test(l)).at(-1);
      const latest = pulsed.lines.filter((l) => l.includes('Memory reducer: ')).at(-1);
      return regular !== undefined && latest !== undefined && v8Ms(latest) - v8Ms(regular) > WATCHDOG_MS;
    };
    while (waiting && !pastWatchdog() && !pulsed.lines.some((l) => REDUCE.test(l)))
      await new Promise((r) => setTimeout(r, 200));
    expect(
      pulsed.lines.filter((l) => l.startsWith('stderr')),
      'a child failed',
    ).toEqual([]);

    // The pulsed process: a memory-reducing collection by the reducer's rate test, not its watchdog,
    // that handed back what the regular collections kept (the heap they left committed and the pool).
    const reduce = pulsed.lines.findIndex((l) => REDUCE.test(l));
    expect(reduce, pulsed.lines.join('\n')).toBeGreaterThan(0);
    const regular =
      pulsed.lines
        .slice(0, reduce)
        .filter((l) => REGULAR.test(l))
        .at(-1) ?? '';
    // The reducer may run a few such collections in a row; what is kept is the last one's.
    const reduced = pulsed.lines.filter((l) => REDUCE.test(l)).at(-1) ?? '';
    expect(keptMb(regular) - keptMb(reduced), `${regular}\n${reduced}`).toBeGreaterThanOrEqual(20);
    expect(v8Ms(pulsed.lines[reduce]!) - v8Ms(regular)).toBeLessThan(WATCHDOG_MS);
    expect(pulsed.lines.slice(0, reduce).some((l) => l.includes('Memory reducer: low alloc'))).toBe(true);

    // The control, over the same stretch: the reducer ticked and read a high rate every time.
    const ticks = control.lines.filter((l) => l.includes('Memory reducer: ') && / (high|low) alloc/.test(l));
    expect(ticks.length, control.lines.join('\n')).toBeGreaterThan(0);
    expect(ticks.filter((l) => l.includes('low alloc'))).toEqual([]);
  });
});
