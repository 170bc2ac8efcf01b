import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CPU_TICK_PRELOAD, CpuTickLog, withoutTicks } from '../bench/scale-cpu-ticks';

// The scale bench's pre-sync timeline (KP_SCALE_CPU_TICKS=1): tick lines from the daemon's
// stderr, split anywhere by the pipe, read into blocks and the stream's busy share.

const EXEC = 1_000_000;
const tick = (ms: number, proc: number, main: number | null, heap = 10) =>
  `${JSON.stringify({ tick: EXEC + ms, proc, main, heap })}\n`;

describe('the scale bench CPU ticks', () => {
  it('reads blocks, the busy share and the last tick before the sync from split chunks', () => {
    const text = [
      'I1127 a log line\n',
      tick(40, 30, 30),
      tick(200, 150, 140), // the bundle's start: a 160 ms block
      tick(280, 180, 160),
      tick(360, 220, 190),
      tick(440, 260, 220),
      tick(500, 300, 250),
      tick(525, 310, 255),
      tick(900, 600, 450), // a 375 ms block
      '{"tick": torn\n',
      tick(960, 620, 470),
      tick(1000, 650, 500, 42), // then the sync starts at 1200: a block up to it
      tick(1400, 900, 700), // after the sync's start: not read
    ].join('');
    const log = new CpuTickLog();
    for (let i = 0; i < text.length; i += 37) log.push(text.slice(i, i + 37));

    const t = log.timeline(EXEC, EXEC + 1200);
    expect(t).toEqual({
      firstTickMs: 40,
      syncStartMs: 1200,
      cpuAtLastTickMs: { process: 650, main: 500, atMs: 1000 },
      heapMb: 42,
      busyShare: { main: 0.5, process: 0.7 },
      blocks: [
        [40, 200, 110],
        [525, 900, 195],
        [1000, 1200, null],
      ],
    });
  });

  it('has no timeline without a tick before the sync, and no main-thread figures without threadCpuUsage', () => {
    const log = new CpuTickLog();
    expect(log.timeline(EXEC, EXEC + 100)).toBeUndefined();
    log.push(tick(50, 20, null) + tick(600, 100, null) + tick(660, 148, null));
    expect(log.timeline(EXEC, EXEC + 670)).toMatchObject({
      cpuAtLastTickMs: { process: 148, main: null, atMs: 660 },
      busyShare: { main: null, process: 0.8 },
      blocks: [[50, 600, null]],
    });
  });

  it("leaves the daemon's other stderr lines for a failure's tail, and ships a preload that compiles", () => {
    expect(withoutTicks(`E1127 boom\n${tick(1, 1, 1)}W1127 warn\n${tick(2, 2, 2)}`)).toBe(
      'E1127 boom\nW1127 warn\n',
    );
    expect(() => new Script(CPU_TICK_PRELOAD)).not.toThrow();
  });
});
