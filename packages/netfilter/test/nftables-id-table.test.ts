import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../src/nftables/id-table';

// IncrementalNftTable keeps each container's elements in an IdTable instead of a Map (issue #54):
// a full sync lists them in its iteration order, so that must be a Map's, values and all.

type Listable = { forEach(f: (v: string, id: string) => void): void };
const listed = (m: Listable) => {
  const out: string[] = [];
  m.forEach((v, id) => {
    out.push(`${id}=${v}`);
  });
  return out;
};

const op = fc.tuple(
  fc.constantFrom('set', 'delete', 'getOrAdd'),
  fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q'),
  fc.constantFrom('', '', 'x', 'y'),
);

describe('IdTable (issue #54)', () => {
  it('holds, gives and lists what a Map would after any sets, getOrAdds and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const map = new Map<string, string>();
        const table = new IdTable<string>();
        for (const [kind, id, value] of ops) {
          if (kind === 'set') {
            map.set(id, value);
            table.set(id, value);
          } else if (kind === 'getOrAdd') {
            // A held id keeps its value and place; a new one is added with `value`.
            const held = map.get(id);
            if (held === undefined) map.set(id, value);
            expect(table.getOrAdd(id, value)).toBe(held);
          } else expect(table.delete(id)).toBe(map.delete(id));
          expect(table.size).toBe(map.size);
        }
        expect(listed(table)).toEqual(listed(map));
        for (const id of ['a', 'e', 'q', 'z']) expect(table.get(id)).toBe(map.get(id));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a Map’s order across chunks, index growth and the packing of mostly deleted entries', () => {
    const map = new Map<string, string>();
    const table = new IdTable<string>();
    const both = (f: (m: Map<string, string> | IdTable<string>) => void) => {
      f(map);
      f(table);
    };
    // 20k ids over several 4096-entry chunks, then most of them deleted (the table packs itself),
    // some set again (to the end) and some given new values (in place).
    for (let i = 0; i < 20_000; i++) both((m) => m.set(`10.0.${i >> 8}.${i & 255} . tcp . ${i}`, `v${i}`));
    for (let i = 0; i < 20_000; i++)
      if (i % 10 !== 3) both((m) => m.delete(`10.0.${i >> 8}.${i & 255} . tcp . ${i}`));
    for (let i = 0; i < 20_000; i += 7) both((m) => m.set(`10.0.${i >> 8}.${i & 255} . tcp . ${i}`, `w${i}`));
    for (let i = 3; i < 20_000; i += 50)
      both((m) => m.set(`10.0.${i >> 8}.${i & 255} . tcp . ${i}`, `u${i}`));
    expect(table.size).toBe(map.size);
    expect(listed(table)).toEqual(listed(map));
    for (const i of [0, 3, 7, 13, 19_999]) {
      const id = `10.0.${i >> 8}.${i & 255} . tcp . ${i}`;
      expect(table.get(id)).toBe(map.get(id));
    }
    // Emptied and filled again: nothing of the old entries comes back.
    for (const id of [...map.keys()]) both((m) => m.delete(id));
    expect(listed(table)).toEqual([]);
    both((m) => m.set('a', '1'));
    expect(listed(table)).toEqual(['a=1']);
  });
});
