import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ElfSymbolError, elfSymbolFileOffset } from './elf-symbol';
import {
  MallocTrimTrace,
  MallocTrimTraceError,
  runningLibc,
  TrimCalls,
  trimMinute,
} from './malloc-trim-trace';

const dir = mkdtempSync(join(tmpdir(), 'na-soak-trim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Trace lines as a tracefs instance with the mono clock writes them; a thread name may hold spaces.
const entry = (tid: number, s: string) =>
  `      MainThread-${tid}   [001] DBZff ${s}: entry: (0x7f87258b7a90)`;
const exit = (tid: number, s: string) =>
  `      MainThread-${tid}   [000] DBZff ${s}: exit: (0x7f86e774f986 <- 0x7f87258b7a90)`;
const out = (tid: number, state: string, s: string) =>
  `      MainThread-${tid}   [001] d..2. ${s}: sched_switch: prev_comm=MainThread prev_pid=${tid} prev_prio=120 prev_state=${state} ==> next_comm=V8 DefaultWorke next_pid=99 next_prio=120`;
const back = (tid: number, s: string) =>
  ` V8 DefaultWorke-99      [001] d..2. ${s}: sched_switch: prev_comm=V8 DefaultWorke prev_pid=99 prev_prio=120 prev_state=S ==> next_comm=MainThread next_pid=${tid} next_prio=120`;

describe('TrimCalls', () => {
  it('pairs a call with its return and splits its time off the CPU into the run queue and asleep', () => {
    const calls = new TrimCalls(1_000_000);
    const lines = [
      entry(7, '100.000000'),
      out(7, 'R+', '100.002000'),
      back(7, '100.005000'),
      out(7, 'D', '100.006000'),
      back(7, '100.010000'),
    ];
    // Nothing completes before the return.
    expect(lines.map((l) => calls.line(l))).toEqual(Array(5).fill(undefined));
    const call = calls.line(exit(7, '100.012500'));
    expect(call?.tid).toBe(7);
    expect(call?.startMs).toBeCloseTo(1_100_000, 3);
    expect(call?.endMs).toBeCloseTo(1_100_012.5, 3);
    expect(call?.runQueueMs).toBeCloseTo(3, 3);
    expect(call?.blockedMs).toBeCloseTo(4, 3);
  });

  it('keeps calls of different threads apart and drops a return whose call it never saw', () => {
    const calls = new TrimCalls(0);
    const done = [
      exit(9, '1.000000'),
      entry(7, '2.000000'),
      entry(8, '2.001000'),
      exit(8, '2.003000'),
      exit(7, '2.010000'),
    ].flatMap((l) => calls.line(l) ?? []);
    expect(done.map((c) => [c.tid, Number((c.endMs - c.startMs).toFixed(3))])).toEqual([
      [8, 2],
      [7, 10],
    ]);
  });
});

describe('trimMinute', () => {
  const call = (startMs: number, endMs: number) => ({ tid: 1, startMs, endMs, runQueueMs: 1, blockedMs: 0 });

  it('says whether a call fell in the longest delay, and gives the longest call', () => {
    expect(trimMinute([call(0, 5), call(100, 130)], { fromMs: 120, toMs: 200 })).toEqual({
      count: 2,
      maxMs: 30,
      maxInRunQueueMs: 1,
      maxBlockedMs: 0,
      totalMs: 35,
      inLongestDelay: true,
    });
    expect(trimMinute([call(100, 130)], { fromMs: 130, toMs: 200 })?.inLongestDelay).toBe(false);
    expect(trimMinute([])).toBeUndefined();
  });
});

describe('runningLibc', () => {
  it("names the C library from a process's maps, and refuses a process without one", () => {
    const maps = [
      '7f0000000000-7f0000028000 r--p 00000000 fe:00 1234   /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7f1000000000-7f1000001000 r--p 00000000 fe:00 99     /usr/lib/x86_64-linux-gnu/libcrypto.so.3',
    ].join('\n');
    expect(runningLibc(maps)).toBe('/usr/lib/x86_64-linux-gnu/libc.so.6');
    expect(() =>
      runningLibc('7f1000000000-7f1000001000 r--p 00000000 fe:00 99 /lib/ld-musl-x86_64.so.1'),
    ).toThrow(MallocTrimTraceError);
  });
});

describe('elfSymbolFileOffset', () => {
  it('refuses what is not an ELF64 object, and a symbol the library does not export', () => {
    const text = join(dir, 'not-elf');
    writeFileSync(text, 'a file of text, longer than an ELF header would be: '.repeat(4));
    expect(() => elfSymbolFileOffset(text, 'malloc_trim')).toThrow(ElfSymbolError);
    writeFileSync(text, 'short');
    expect(() => elfSymbolFileOffset(text, 'malloc_trim')).toThrow(/not an ELF64/);
    expect(() => elfSymbolFileOffset(runningLibc(), 'na_no_such_function')).toThrow(
      /exports no na_no_such_function/,
    );
  });
});

/** Runs a shell command with tracefs mounted at its usual place, in a throwaway mount namespace. */
const inTracefs = (command: string) =>
  execFileSync(
    'unshare',
    ['-m', '--propagation=private', 'sh', '-c', `mount -t tracefs nodev /sys/kernel/tracing && ${command}`],
    { encoding: 'utf8' },
  );

/** uprobe_events as the kernel holds it. */
const uprobeEvents = () => inTracefs('cat /sys/kernel/tracing/uprobe_events');

describe('MallocTrimTrace on this kernel (root)', () => {
  it("times a process's malloc_trim calls through the uprobe, and removes its probes when stopped", async () => {
    const trace = await MallocTrimTrace.start();
    const group = /^[pr]:(na_trim_\d+)\//m.exec(uprobeEvents())?.[1];
    expect(group).toBeDefined();
    const before = Date.now();
    // Three calls, each with 10 MB of freed 5 kB chunks to hand back.
    const child = spawnSync(
      process.execPath,
      [
        '-e',
        `const trim = require('koffi').load('libc.so.6').func('int malloc_trim(size_t)');
         for (let i = 0; i < 3; i++) {
           let held = []; for (let j = 0; j < 2000; j++) held.push(Buffer.allocUnsafeSlow(5000));
           held = undefined; trim(0);
         }
         console.log(process.pid);`,
      ],
      { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8' },
    );
    expect(child.stderr).toBe('');
    const pid = Number(child.stdout.trim());
    const after = Date.now();
    const calls = [];
    // The tracer hands calls over once a second; a loaded machine may take longer.
    for (let i = 0; i < 600 && calls.length < 3; i++) {
      calls.push(...trace.take(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
    await trace.stop();
    expect(calls).toHaveLength(3);
    for (const c of calls) {
      expect(c.tid).toBe(pid);
      // Epoch times from the trace clock by one offset, read at start: a clock stepped since moves them.
      expect(c.startMs).toBeGreaterThanOrEqual(before - 1000);
      expect(c.endMs).toBeLessThanOrEqual(after + 1000);
      expect(c.endMs).toBeGreaterThanOrEqual(c.startMs);
    }
    expect(uprobeEvents()).not.toContain(`${group}/`);
  }, 120_000);

  it('removes the probes a killed tracer left behind', async () => {
    // A group named for a pid no process can have (above the kernel's highest, 4,194,304).
    const stale = 'na_trim_4999999';
    const offset = elfSymbolFileOffset(runningLibc(), 'malloc_trim').toString(16);
    inTracefs(`echo 'p:${stale}/entry ${runningLibc()}:0x${offset}' >> /sys/kernel/tracing/uprobe_events`);
    expect(uprobeEvents()).toContain(`${stale}/entry`);
    const trace = await MallocTrimTrace.start();
    await trace.stop();
    expect(uprobeEvents()).not.toContain(stale);
  }, 120_000);
});
