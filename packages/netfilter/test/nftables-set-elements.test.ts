import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SetElements } from '../src/nftables/set-elements';

// IncrementalNftTable keeps a set's elements in a SetElements instead of a Map (issue #54): a
// full sync lists them in its iteration order, so that must be a Map's, values and all.

const op = fc.tuple(
  fc.constantFrom('set', 'delete'),
  fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  fc.constantFrom('', '', 'x', 'y'),
);

describe('SetElements (issue #54)', () => {
  it('holds, gives and lists what a Map would after any sets and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const map = new Map<string, string>();
        const set = new SetElements<string>('');
        for (const [kind, id, value] of ops) {
          if (kind === 'set') {
            map.set(id, value);
            set.set(id, value);
          } else expect(set.delete(id)).toBe(map.delete(id));
          expect(set.size).toBe(map.size);
        }
        const listed = (m: { forEach(f: (v: string, id: string) => void): void }) => {
          const out: string[] = [];
          m.forEach((v, id) => {
            out.push(`${id}=${v}`);
          });
          return out;
        };
        expect(listed(set)).toEqual(listed(map));
        for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) expect(set.get(id)).toBe(map.get(id));
      }),
      { numRuns: 2000 },
    );
  });
});
