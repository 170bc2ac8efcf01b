import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GcTraceTally, tallyGcTrace } from '../bench/scale-gc-trace';

// `--trace-gc` lines as Node 24's V8 prints them on stdout (Node 20's have no `pooled`), read
// from chunks that the pipe splits anywhere.

const NODE24 = [
  '[20733:0xeab7000]      142 ms: Scavenge 20.0 (29.6) -> 18.2 (29.6) MB, pooled: 0 MB, 14.57 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; \n',
  '[20733:0xeab7000]      475 ms: Mark-Compact 78.7 (126.3) -> 58.8 (123.9) MB, pooled: 0 MB, 58.48 / 0.00 ms  (+ 0.5 ms in 9 steps since start of marking, biggest step 0.2 ms, walltime since start of marking 60 ms) (average mu = 0.843, current mu = 0.843) allocation failure; GC in old space requested\n',
  'a line of the program its own\n',
  '[20733:0xeab7000]      777 ms: Mark-Compact (reduce) 122.9 (230.9) -> 4.1 (134.5) MB, pooled: 74 MB, 6.31 / 0.00 ms  (average mu = 0.915, current mu = 0.979) memory reducer; GC in old space requested\n',
];

describe('the --trace-gc tally', () => {
  it('counts collections by kind, their main-thread time, and the pool after the last', () => {
    const text = NODE24.join('');
    const tally = new GcTraceTally();
    for (let i = 0; i < text.length; i += 29) tally.push(text.slice(i, i + 29));
    const seen = tally.snapshot();
    expect(seen.kinds).toEqual({
      Scavenge: { count: 1, pauseMs: 14.6 },
      'Mark-Compact': { count: 1, pauseMs: 58.5 },
      'Mark-Compact (reduce)': { count: 1, pauseMs: 6.3 },
    });
    expect(seen.incrementalMarkingMs).toBe(0.5);
    expect(seen.mainThreadMs).toBe(79.9);
    expect(seen.pooledMiB).toBe(74);
  });

  it('reports no pool from lines without one', () => {
    const tally = new GcTraceTally();
    tally.push(
      '[1:0x1]      412 ms: Scavenge 5.1 (6.3) -> 4.6 (7.3) MB, 1.03 / 0.00 ms  (average mu = 1.000) allocation failure;\n',
    );
    expect(tally.snapshot()).toEqual({
      kinds: { Scavenge: { count: 1, pauseMs: 1 } },
      incrementalMarkingMs: 0,
      mainThreadMs: 1,
    });
  });

  it("tallies a child's stdout as it arrives", async () => {
    const stdout = new PassThrough();
    const tally = tallyGcTrace(stdout);
    stdout.end(Buffer.from(NODE24.join('')));
    await once(stdout, 'end');
    expect(tally.snapshot().kinds['Mark-Compact (reduce)']).toEqual({ count: 1, pauseMs: 6.3 });
    expect(tally.snapshot().pooledMiB).toBe(74);
  });
});
