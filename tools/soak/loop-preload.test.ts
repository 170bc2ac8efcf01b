import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { profileWindow } from '../../apps/kube-proxy/bench/loop-profile';
import { LOOP_PRELOAD, type LoopReport, longestLine } from './loop-preload';

const dir = mkdtempSync(join(tmpdir(), 'na-soak-preload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `script` with the preload reporting every 300 ms to `<name>.jsonl`, on the CPUs `cpus`
 * (taskset's list) if given; returns the lines.
 */
function reportOf(
  name: string,
  script: string,
  nodeArgs: string[] = [],
  cpus?: string,
  env: Record<string, string> = {},
): LoopReport[] {
  const preload = join(dir, 'preload.cjs');
  const report = join(dir, `${name}.jsonl`);
  writeFileSync(preload, LOOP_PRELOAD);
  const node = [process.execPath, ...nodeArgs, '--require', preload, '-e', script];
  const [command, ...args] = cpus ? ['taskset', '-c', cpus, ...node] : node;
  const run = spawnSync(command as string, args, {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      NA_SOAK_LOOP_REPORT: report,
      NA_SOAK_LOOP_PERIOD_MS: '300',
      ...env,
    },
    timeout: 60_000,
  });
  expect(run.status).toBe(0);
  return readFileSync(report, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LoopReport);
}

describe('the soak preload', () => {
  it("reports a 200 ms stall of the main thread, the GC pauses of a forced collection and V8's heap, per period", () => {
    // Stalls the loop for 200 ms, collects once, and exits after three 300 ms periods.
    const script =
      'setTimeout(() => { const t = Date.now(); while (Date.now() - t < 200); globalThis.gc(); }, 100);' +
      'setTimeout(() => {}, 1000);';
    const lines = reportOf('stall', script, ['--expose-gc']);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...lines.map((l) => l.maxMs))).toBeGreaterThanOrEqual(150);
    expect(lines.reduce((n, l) => n + l.gcCount, 0)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...lines.map((l) => l.gcMaxMs))).toBeGreaterThan(0);
    // V8's heap at each period's end: every space committed at least what it uses, code included.
    const last = lines.at(-1)!;
    expect(last.spaces.code_space![0]).toBeGreaterThan(0);
    expect(last.spaces.old_space![0]).toBeGreaterThanOrEqual(last.spaces.old_space![1]);
    expect(last.external).toBeGreaterThan(0);
  });

  it('reports the live heap after full collections and the most committed in regular pages, per period', () => {
    // Keeps ~20 MiB of small objects alive; once a period has ended after they were made, collects
    // fully and waits for the next period's line; then lets them go, collects and waits again. The
    // script's own gc observer is called with the preload's, so a line written after it fired
    // holds the collection.
    const script = `
      const { existsSync, readFileSync } = require('node:fs');
      const { constants, PerformanceObserver } = require('node:perf_hooks');
      const file = process.env.NA_SOAK_LOOP_REPORT;
      const count = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\\n').filter(Boolean).length : 0);
      const lineAfter = (n, then) => { const t = setInterval(() => { if (count() > n) { clearInterval(t); then(); } }, 20); };
      let onFull;
      new PerformanceObserver((list) => {
        if (onFull && list.getEntries().some((e) => e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) { const f = onFull; onFull = undefined; f(); }
      }).observe({ entryTypes: ['gc'] });
      // The gc entries come on an immediate that does not keep the process alive: a timer does.
      const collected = (then) => {
        const hold = setInterval(() => {}, 1000);
        onFull = () => { clearInterval(hold); lineAfter(count(), then); };
        globalThis.gc();
      };
      let kept = Array.from({ length: 250000 }, (_, i) => ({ i, s: String(i) }));
      lineAfter(0, () => collected(() => { kept = null; collected(() => {}); }));`;
    const lines = reportOf('live', script, ['--expose-gc']);
    const live = lines.map((l) => l.liveAfterFullGc).filter((v): v is number => v !== undefined);
    expect(live.length).toBeGreaterThanOrEqual(2);
    const [held, released] = live.slice(-2) as [number, number];
    expect(held).toBeGreaterThan(8 * 2 ** 20);
    expect(released).toBeLessThan(held - 6 * 2 ** 20);
    for (const l of lines) {
      const regular = ['old_space', 'new_space'].reduce((n, sp) => n + (l.spaces[sp]?.[0] ?? 0), 0);
      expect(l.regularCommittedPeak).toBeGreaterThanOrEqual(regular);
    }
    // The period of the collection that held the objects committed their pages.
    expect(lines.filter((l) => l.liveAfterFullGc).at(-2)!.regularCommittedPeak).toBeGreaterThan(8 * 2 ** 20);
  });

  it("tells a task on the main thread from a wait for a core and a sleep: the longest delay's parts and the longest task", () => {
    // Each stall starts at 100 ms. `spin` runs until the thread has had 200 ms of CPU (so however
    // busy the machine, the gap holds that much); `crowded` does the same on one CPU that two
    // spinning worker threads share, so the gap also holds the wait for that CPU, about twice its
    // CPU (the scheduler shares the CPU about evenly), starting 100 ms after both workers run;
    // `sleep` blocks for 1 s.
    const threadMs =
      "() => Number(require('fs').readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]) / 1e6";
    // Each stall keeps its process a second after it ends, so that a period reports it however
    // long a busy machine stretches it.
    const spinThen = (then: string) =>
      `setTimeout(() => { const ms = ${threadMs}; const t = ms(); while (ms() - t < 200); ${then} }, 100);`;
    const spin = spinThen('setTimeout(() => {}, 1000);');
    const stalls = {
      spin,
      // The stall starts once both workers run, however long their start takes on a busy machine
      // (the workers hold the process until it exits).
      crowded:
        "const { Worker } = require('worker_threads'); let running = 0;" +
        'for (let i = 0; i < 2; i++) { const w = new Worker("require(\'worker_threads\').parentPort.postMessage(0); for (;;);", { eval: true });' +
        `w.once('message', () => { if (++running === 2) { ${spinThen('setTimeout(() => process.exit(0), 1000);')} } }); }`,
      sleep:
        'setTimeout(() => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000); setTimeout(() => {}, 1000); }, 100);',
    };
    // The stall's period: for a spin, the one with the longest task, which only the spin's 200 ms
    // of CPU reach; for the sleep, the one with the longest delay, which a saturated machine's
    // waits for a core (that can pass 200 ms, not 1 s) do not reach.
    const stallOf = (stall: keyof typeof stalls, by: (l: LoopReport) => number) =>
      longestLine(
        reportOf(
          stall,
          `${stalls[stall]} setTimeout(() => {}, 1000);`,
          [],
          stall === 'crowded' ? '0' : undefined,
        ),
        by,
      )!;
    // The period's longest delay is the stall's gap on a machine with cores to spare; on a
    // saturated one it can be another gap that waited longer for a core than the stall took.
    // Either way that gap was spent on a core or waiting for one, not asleep.
    const busyGap = (l: LoopReport) => {
      expect(l.maxMs).toBeGreaterThanOrEqual(l.maxOnCpuMs + l.maxRunQueueMs - 40);
      expect(l.maxOnCpuMs + l.maxRunQueueMs).toBeGreaterThanOrEqual(l.maxMs / 2);
      if (l.maxRunQueueMs < l.maxMs / 2) expect(l.maxOnCpuMs).toBeGreaterThanOrEqual(200);
    };
    const startedAt = Date.now();
    const onCpu = stallOf('spin', (l) => l.taskMaxMs);
    expect(onCpu.maxMs).toBeGreaterThanOrEqual(170);
    expect(onCpu.taskMaxMs).toBeGreaterThanOrEqual(200);
    busyGap(onCpu);
    // The gap ended after the stall's 200 ms, within the run's own wall-clock span.
    expect(onCpu.maxAt).toBeGreaterThan(startedAt + 200);
    expect(onCpu.maxAt).toBeLessThan(Date.now());
    const crowded = stallOf('crowded', (l) => l.taskMaxMs);
    expect(crowded.taskMaxMs).toBeGreaterThanOrEqual(200);
    // Sharing its core with two workers, the longest gap waited for it more than it ran, however
    // busy the machine (the stall's gap about 400 ms for its 200 ms of CPU).
    expect(crowded.maxRunQueueMs).toBeGreaterThanOrEqual(250);
    busyGap(crowded);
    const asleep = stallOf('sleep', (l) => l.maxMs);
    expect(asleep.maxMs).toBeGreaterThanOrEqual(950);
    // Most of the gap the thread slept: neither on a core nor waiting for one.
    expect(asleep.maxOnCpuMs).toBeLessThan(asleep.maxMs / 4);
    expect(asleep.maxRunQueueMs).toBeLessThan(asleep.maxMs / 4);
    expect(asleep.taskMaxMs).toBeLessThan(100);
  });

  it("with a profile directory, keeps the CPU profile of a period with a long task only, and the stall's gap names the function that ran", () => {
    const profiles = mkdtempSync(join(dir, 'profiles-'));
    // A 200 ms stall in a named function at 100 ms, then a second of quiet periods.
    const script =
      'function spinTwoHundredMs() { const t = Date.now(); while (Date.now() - t < 200); }' +
      'setTimeout(spinTwoHundredMs, 100); setTimeout(() => {}, 1300);';
    const lines = reportOf('profiled', script, [], undefined, {
      NA_SOAK_CPU_PROFILE_DIR: profiles,
      NA_SOAK_CPU_PROFILE_OVER_MS: '100',
    });
    const kept = lines.filter((l) => l.profile);
    expect(kept).toHaveLength(1);
    expect(lines.filter((l) => !l.profile).length).toBeGreaterThanOrEqual(2);
    const line = kept[0]!;
    expect(line.maxMs).toBeGreaterThanOrEqual(150);
    const profile = JSON.parse(readFileSync(line.profile!, 'utf8'));
    // The gap with the most CPU is the stall's, however busy the machine; the longest delay's gap
    // spans that delay and the timer's own 20 ms.
    const [from, to] = line.taskGapMonotonicMs!;
    expect(to - from).toBeGreaterThanOrEqual(200);
    const stall = profileWindow(profile, from, to);
    expect(stall.ms).toBeGreaterThanOrEqual(100);
    expect(stall.onStack[0]?.fn).toMatch(/^spinTwoHundredMs /);
    const [maxFrom, maxTo] = line.maxGapMonotonicMs!;
    expect(maxTo - maxFrom).toBeCloseTo(line.maxMs + 20, 0);
  });

  it('does nothing without a report file', () => {
    const preload = join(dir, 'preload.cjs');
    writeFileSync(preload, LOOP_PRELOAD);
    const run = spawnSync(process.execPath, ['--require', preload, '-e', 'setTimeout(() => {}, 100)'], {
      env: { ...process.env, NODE_OPTIONS: '', NA_SOAK_LOOP_REPORT: '' },
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    expect(run.stderr.toString()).toBe('');
  });
});
