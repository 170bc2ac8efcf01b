import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OverlayMap } from './overlay-map';

const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }), value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }),
);

describe('OverlayMap', () => {
  it('behaves like a Map copied per version: same entries, same order, old versions unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer()), { maxLength: 30 }),
        fc.array(fc.array(op, { maxLength: 12 }), { maxLength: 40 }),
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
          for (const [m, o] of versions) {
            expect([...o]).toEqual([...m]);
            expect(o.size).toBe(m.size);
            for (let k = 0; k <= 40; k++) {
              expect(o.has(k)).toBe(m.has(k));
              expect(o.get(k)).toBe(m.get(k));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('copies only the edits per version, and folds them into a new base once they reach 2·√n', () => {
    const big = OverlayMap.from(Array.from({ length: 10_000 }, (_, i) => [i, i] as const));
    let v = big;
    for (let i = 0; i < 199; i++) v = v.withChanges((d) => d.set(i, -i));
    // 199 overrides of a 10k-entry base: still an overlay.
    expect((v as unknown as { over: Map<number, number> }).over.size).toBe(199);
    v = v.withChanges((d) => d.set(199, -199));
    expect((v as unknown as { over: Map<number, number> }).over.size).toBe(0);
    expect(v.get(199)).toBe(-199);
    expect(big.get(199)).toBe(199);
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
