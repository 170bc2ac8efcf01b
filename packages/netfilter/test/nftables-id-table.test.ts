import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { hashOf, IdTable } from '../src/nftables/id-table';

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
  fc.constantFrom('set', 'delete', 'getOrAdd', 'append', 'append', 'size'),
  fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q'),
  fc.constantFrom('', '', 'x', 'y'),
);

/** A merge that shows which values joined in which order, and from which source. */
const joined = (held: string, value: string, source: string) => `${held}+${source}:${value}`;

/** Two ids whose hashes have the same tag (top 7 bits) and the same slot in a 16-slot index. */
function collidingIds(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const id = `10.0.0.${i} . tcp . 80`;
    const h = hashOf(id);
    const key = ((h >>> 25) << 4) | (h & 15);
    const other = seen.get(key);
    if (other !== undefined) return [other, id];
    seen.set(key, id);
  }
}

describe('IdTable (issue #54)', () => {
  it('holds, gives and lists what a Map would after any sets, getOrAdds, appends and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const map = new Map<string, string>();
        const table = new IdTable<string, string>(joined);
        for (const [kind, id, value] of ops) {
          if (kind === 'append') {
            // Joins a held id's entry (when the index is next read), else added at the end.
            const held = map.get(id);
            map.set(id, held === undefined ? value : joined(held, value, `s${value}`));
            table.append(id, value, `s${value}`);
          } else if (kind === 'size') expect(table.size).toBe(map.size);
          else if (kind === 'set') {
            map.set(id, value);
            table.set(id, value);
          } else if (kind === 'getOrAdd') {
            // A held id keeps its value and place; a new one is added with `value`.
            const held = map.get(id);
            if (held === undefined) map.set(id, value);
            expect(table.getOrAdd(id, value)).toBe(held);
          } else expect(table.delete(id)).toBe(map.delete(id));
        }
        expect(table.size).toBe(map.size);
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

  it('builds the index of appended ids once, at their final size, joining held and repeated ids in order', () => {
    const map = new Map<string, string>();
    const table = new IdTable<string, string>(joined);
    const id = (i: number) => `10.0.${i >> 8}.${i & 255} . tcp . ${i}`;
    // 5,000 indexed first, then 20,000 appended by 400 sources: the index grows past both
    // (and past several chunks) in one step; every 100th appended id is one held already, every
    // 50th is appended twice.
    for (let i = 0; i < 5_000; i++) {
      map.set(id(i), `v${i}`);
      table.set(id(i), `v${i}`);
    }
    const rehash = vi.spyOn(IdTable.prototype as unknown as { rehash(): void }, 'rehash');
    for (let i = 0; i < 20_000; i++) {
      const source = `o${Math.floor(i / 50)}`;
      const held = i % 100 === 0 ? id(i / 100) : id(5_000 + i);
      const times = i % 50 === 25 ? 2 : 1;
      for (let t = 0; t < times; t++) {
        const was = map.get(held);
        map.set(held, was === undefined ? `a${i}` : joined(was, `a${i}`, source));
        table.append(held, `a${i}`, source);
      }
    }
    expect(table.size).toBe(map.size);
    expect(rehash).toHaveBeenCalledTimes(1);
    rehash.mockRestore();
    expect(listed(table)).toEqual(listed(map));
    expect(table.get(id(0))).toBe('v0+o0:a0');
    expect(table.get(id(5_025))).toBe('a25+o0:a25');
    // A deleted id appended again goes last; a held one set keeps its place.
    both(map, table, (m) => m.delete(id(7)));
    table.append(id(7), 'again', 'o-last');
    map.set(id(7), 'again');
    both(map, table, (m) => m.set(id(8), 'kept'));
    expect(listed(table)).toEqual(listed(map));
    expect(listed(table).at(-1)).toBe(`${id(7)}=again`);
  });

  it('holds what a Map would across many ids, whose deletes close the gaps in long runs of the index', () => {
    const id = fc.integer({ min: 0, max: 299 }).map((i) => `10.0.${i >> 4}.${i & 15} . tcp . 80`);
    const churn = fc.array(fc.tuple(fc.constantFrom('set', 'set', 'delete', 'getOrAdd'), id), {
      minLength: 100,
      maxLength: 900,
    });
    fc.assert(
      fc.property(churn, (ops) => {
        const map = new Map<string, string>();
        const table = new IdTable<string, string>();
        ops.forEach(([kind, key], n) => {
          if (kind === 'set') both(map, table, (m) => m.set(key, `v${n}`));
          else if (kind === 'getOrAdd') {
            const held = map.get(key);
            if (held === undefined) map.set(key, `v${n}`);
            expect(table.getOrAdd(key, `v${n}`)).toBe(held);
          } else expect(table.delete(key)).toBe(map.delete(key));
        });
        expect(listed(table)).toEqual(listed(map));
        for (let i = 0; i < 300; i += 7) {
          const key = `10.0.${i >> 4}.${i & 15} . tcp . 80`;
          expect(table.get(key)).toBe(map.get(key));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('does not rebuild its index under steady churn: a delete and an add of a new id, many times the table’s size over', () => {
    const id = (i: number) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255} . tcp . 80`;
    const table = new IdTable<string, string>();
    const map = new Map<string, string>();
    for (let i = 0; i < 5_000; i++) both(map, table, (m) => m.set(id(i), `v${i}`));
    const proto = IdTable.prototype as unknown as { rehash(): void; compact(): void };
    const rehash = vi.spyOn(proto, 'rehash');
    const compact = vi.spyOn(proto, 'compact');
    // 60k changes: each one endpoint gone and a new one in its place, as the soak's churn.
    for (let i = 5_000; i < 65_000; i++) {
      both(map, table, (m) => m.delete(id(i - 5_000)));
      both(map, table, (m) => m.set(id(i), `v${i}`));
    }
    // The positions deleted entries left are packed, each time after about as many deletes as
    // the table holds; the index is never rebuilt, for the deletes nor for the packing.
    expect(compact.mock.calls.length).toBeGreaterThanOrEqual(10);
    expect(rehash).not.toHaveBeenCalled();
    rehash.mockRestore();
    compact.mockRestore();
    expect(table.size).toBe(5_000);
    expect(listed(table)).toEqual(listed(map));
  });

  it('rebuilds the index of a table that shrank to an eighth of it, smaller', () => {
    const id = (i: number) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255} . tcp . 80`;
    const table = new IdTable<string, string>();
    const map = new Map<string, string>();
    for (let i = 0; i < 50_000; i++) both(map, table, (m) => m.set(id(i), `v${i}`));
    const rehash = vi.spyOn(IdTable.prototype as unknown as { rehash(): void }, 'rehash');
    for (let i = 0; i < 49_900; i++) both(map, table, (m) => m.delete(id(i)));
    expect(rehash).toHaveBeenCalled();
    rehash.mockRestore();
    expect(listed(table)).toEqual(listed(map));
    expect(table.get(id(49_950))).toBe('v49950');
    expect(table.getOrAdd(id(0), 'again')).toBeUndefined();
    expect(listed(table).at(-1)).toBe(`${id(0)}=again`);
  });

  it('tells apart ids whose hashes share the tag and the slot, indexed or appended', () => {
    const [a, b] = collidingIds();
    const table = new IdTable<string, string>(joined);
    table.set(a, '1');
    table.append(b, '2', 's');
    table.append(a, '3', 's');
    expect(table.get(a)).toBe('1+s:3');
    expect(table.get(b)).toBe('2');
    expect(table.delete(a)).toBe(true);
    expect(table.get(a)).toBeUndefined();
    expect(table.get(b)).toBe('2');
    expect(table.getOrAdd(a, '4')).toBeUndefined();
    expect(listed(table)).toEqual([`${b}=2`, `${a}=4`]);
  });
});

/** `f` done to the Map and the table alike. */
function both(
  map: Map<string, string>,
  table: IdTable<string, string>,
  f: (m: Map<string, string> | IdTable<string, string>) => unknown,
): void {
  f(map);
  f(table);
}
