import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OverlayMap } from './overlay-map';

const opOn = (maxKey: number) =>
  fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      key: fc.integer({ min: 0, max: maxKey }),
      value: fc.integer(),
    }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: maxKey }) }),
  );

/** Small key spaces exercise the journal and its settling; large ones (64+ edits) the folds too. */
const shapes = [
  { maxKey: 40, minInitial: 0, initial: 30, minBatch: 0, batch: 12, minBatches: 0, batches: 40, runs: 200 },
  {
    maxKey: 300,
    minInitial: 100,
    initial: 200,
    minBatch: 5,
    batch: 30,
    minBatches: 20,
    batches: 40,
    runs: 40,
  },
];

describe('OverlayMap', () => {
  it.each(shapes)(
    'behaves like a Map copied per version: same entries, same order, old versions unchanged (keys 0..$maxKey)',
    ({
      maxKey,
      minInitial,
      initial: initialLength,
      minBatch,
      batch,
      minBatches,
      batches: batchCount,
      runs,
    }) => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: 0, max: maxKey }), fc.integer()), {
            minLength: minInitial,
            maxLength: initialLength,
          }),
          fc.array(fc.array(opOn(maxKey), { minLength: minBatch, maxLength: batch }), {
            minLength: minBatches,
            maxLength: batchCount,
          }),
          (initial, batches) => {
            let model = new Map(initial);
            let overlay = OverlayMap.from(initial);
            const versions: [Map<number, number>, OverlayMap<number, number>][] = [[model, overlay]];
            for (const batch of batches) {
              const next = new Map(model);
              for (const o of batch) {
                if (o.kind === 'set') next.set(o.key, o.value);
                else next.delete(o.key);
              }
              overlay = overlay.withChanges((d) => {
                for (const o of batch) {
                  if (o.kind === 'set') d.set(o.key, o.value);
                  else d.delete(o.key);
                }
              });
              model = next;
              versions.push([model, overlay]);
            }
            // Every key's has/get compared in one expect per version: per-key expects (tens of
            // thousands a run) were most of this file's time.
            const keys = Array.from({ length: maxKey + 1 }, (_, k) => k);
            for (const [m, o] of versions) {
              expect([...o]).toEqual([...m]);
              expect(o.size).toBe(m.size);
              expect(keys.map((k) => [o.has(k), o.get(k)])).toEqual(keys.map((k) => [m.has(k), m.get(k)]));
            }
          },
        ),
        { numRuns: runs },
      );
    },
  );

  it('chains each version onto shared layers, settles every 16, folds at √(32n) edits', () => {
    type Inside = {
      base: Map<number, number>;
      over: Map<number, number>;
      journal?: { depth: number };
    };
    const inside = (m: OverlayMap<number, number>) => m as unknown as Inside;
    const big = OverlayMap.from(Array.from({ length: 10_000 }, (_, i) => [i, i] as const));
    let v = big;
    for (let i = 0; i < 15; i++) v = v.withChanges((d) => d.set(i, -i));
    // 15 one-key versions: nothing copied yet, every edit in the journal.
    expect(inside(v).over).toBe(inside(big).over);
    expect(inside(v).journal?.depth).toBe(15);
    v = v.withChanges((d) => d.set(15, -15));
    // The 16th copies the journal into new layers.
    expect(inside(v).over.size).toBe(16);
    expect(inside(v).journal).toBeUndefined();
    for (let i = 16; i < 565; i++) v = v.withChanges((d) => d.set(i, -i));
    // 565 overrides of a 10k-entry base: still an overlay on the same base (√(32·10k) = 565.7).
    expect(inside(v).base).toBe(inside(big).base);
    expect(v.get(564)).toBe(-564);
    v = v.withChanges((d) => d.set(565, -565));
    expect(inside(v).base).not.toBe(inside(big).base);
    expect(inside(v).over.size).toBe(0);
    expect(v.get(565)).toBe(-565);
    expect(big.get(565)).toBe(565);
    expect(v.size).toBe(10_000);
    expect([...v.keys()]).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });

  it('offers the ReadonlyMap surface (keys, values, forEach)', () => {
    const v = OverlayMap.from([
      ['a', 1],
      ['b', 2],
    ]).withChanges((d) => {
      d.delete('a');
      d.set('c', 3);
      d.set('a', 4);
    });
    expect([...v.keys()]).toEqual(['b', 'c', 'a']);
    expect([...v.values()]).toEqual([2, 3, 4]);
    const seen: string[] = [];
    v.forEach((value, key, map) => {
      seen.push(`${key}=${value}:${map === v}`);
    });
    expect(seen).toEqual(['b=2:true', 'c=3:true', 'a=4:true']);
  });
});
