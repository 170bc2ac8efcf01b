import { describe, expect, it } from 'vitest';
import { busyStretches, type CpuProfile, profileWindow } from '../bench/loop-profile';

// A hand-made call tree: root → main (lib.js:10) → sync (sync.js:5) → encode (nft.js:20), and
// root → (idle). Times are µs, as V8 writes them; the profile starts at 1,000,000 µs.
const frame = (id: number, functionName: string, url = '', children?: number[]) => ({
  id,
  callFrame: { functionName, url, lineNumber: id },
  ...(children && { children }),
});
const NODES = [
  frame(1, '(root)', '', [2, 5]),
  frame(2, 'main', '/app/lib.js', [3]),
  frame(3, 'sync', '/app/sync.js', [4]),
  frame(4, 'encode', '/app/nft.js'),
  frame(5, '(idle)'),
];
const IDLE = 5;

/** A profile of [node, µs since the previous sample] pairs. */
function profile(samples: [number, number][]): CpuProfile {
  return {
    nodes: NODES,
    startTime: 1_000_000,
    samples: samples.map(([id]) => id),
    timeDeltas: samples.map(([, us]) => us),
  };
}

describe('busyStretches', () => {
  it('finds the longest run of samples without idle, and names what ran in it', () => {
    const p = profile([
      [IDLE, 1000],
      [3, 1000], // a short stretch: 1 sample after its first
      [3, 2000],
      [IDLE, 1000],
      [3, 1000], // the long one opens here (1,006 ms)
      [4, 3000],
      [4, 3000],
      [3, 1000],
      [IDLE, 1000],
    ]);
    const [longest, second] = busyStretches(p, 2);
    expect(longest?.startMonotonicMs).toBe(1006);
    expect(longest?.ms).toBe(7);
    expect(longest?.self).toEqual([
      { fn: 'encode nft.js:5', ms: 6 },
      { fn: 'sync sync.js:4', ms: 1 },
    ]);
    // Each frame once per sample, generic ones ((root)) left out.
    expect(Object.fromEntries(longest?.onStack.map((f) => [f.fn, f.ms]) ?? [])).toEqual({
      'main lib.js:3': 7,
      'sync sync.js:4': 7,
      'encode nft.js:5': 6,
    });
    expect(second?.ms).toBe(2);
    expect(second?.self).toEqual([{ fn: 'sync sync.js:4', ms: 2 }]);
  });

  it('keeps tallies of one stretch out of the next', () => {
    const p = profile([
      [4, 1000],
      [4, 5000],
      [IDLE, 1000],
      [3, 1000],
      [3, 4000],
    ]);
    const [first, second] = busyStretches(p, 2);
    expect(first?.self).toEqual([{ fn: 'encode nft.js:5', ms: 5 }]);
    expect(second?.self).toEqual([{ fn: 'sync sync.js:4', ms: 4 }]);
  });
});

describe('profileWindow', () => {
  it('counts the non-idle samples inside the window only', () => {
    const p = profile([
      [4, 1000], // 1,001 ms: before the window
      [3, 1000], // 1,002
      [IDLE, 1000], // 1,003: idle, not counted
      [4, 2000], // 1,005
      [4, 1000], // 1,006: after the window
    ]);
    const w = profileWindow(p, 1002, 1005);
    expect(w.ms).toBe(3);
    expect(w.self).toEqual([
      { fn: 'encode nft.js:5', ms: 2 },
      { fn: 'sync sync.js:4', ms: 1 },
    ]);
    expect(w.onStack.find((f) => f.fn === 'main lib.js:3')?.ms).toBe(3);
  });
});
