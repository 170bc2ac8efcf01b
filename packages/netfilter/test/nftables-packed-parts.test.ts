import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IncrementalNftTable, type NftContribution } from '../src/nftables/index';
import { CharCodes, PACKED_END, Unpacker } from '../src/nftables/packed-parts';

// IncrementalNftTable keeps element keys and values packed (issue #54). What it hands out must
// be the ` . `-joined text it was given, and two keys must pack alike exactly when their texts
// are equal (the table's ids compare as the texts did).

const packed = (parts: readonly string[]) => new CharCodes().packParts(parts).toString();
const joined = (parts: readonly string[]) => parts.join(' . ');

// Parts that pack as every kind of item, and texts that only look like one.
const part = fc.oneof(
  fc.tuple(...Array.from({ length: 4 }, () => fc.integer({ min: 0, max: 255 }))).map((o) => o.join('.')),
  fc.integer({ min: 0, max: 70_000 }).map(String),
  fc.constantFrom('tcp', 'udp', '080', '00', '-1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '256.0.0.1', 'fd00::1'),
  fc.constantFrom('', ' . ', 'a . b', 'goto service-ABCD-ns/name:p', 'ü', 'ǅx', '\u0000\u0005\u0006z'),
  fc.string({ maxLength: 6 }),
);
const parts = fc.array(part, { maxLength: 5 });

describe('packed element parts (issue #54)', () => {
  it('unpack to the joined text, through the byte buffer and through CharCodes alike', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const s = packed(p);
        const unpacker = new Unpacker();
        expect(unpacker.text(s, 0)).toBe(joined(p));
        expect(unpacker.end).toBe(s.length);
        const codes = new CharCodes();
        expect(codes.unpack(s, 0)).toBe(s.length);
        expect(codes.toString()).toBe(joined(p));
      }),
      { numRuns: 2000 },
    );
  });

  it('pack alike exactly when the joined texts are equal', () => {
    const small = fc.array(fc.constantFrom('', '1', '1.2.3.4', 'a', 'a . a', ' . ', '01'), { maxLength: 4 });
    fc.assert(
      fc.property(small, small, (a, b) => {
        expect(packed(a) === packed(b)).toBe(joined(a) === joined(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('take one byte per character for such parts, and fewer characters than their text', () => {
    const s = packed(['10.96.0.18', 'tcp', '80', '7']);
    expect(s.length).toBe(13);
    expect([...s].every((c) => c.charCodeAt(0) < 256)).toBe(true);
    // A hairpin key repeats its address: one character for the second.
    expect(packed(['10.128.4.194', '10.128.4.194']).length).toBe(6);
    expect(packed(['10.128.4.194', '8080']).length).toBe(8);
  });

  it('stop at PACKED_END, where a rest text holds its comment', () => {
    const s = `${packed(['10.0.0.4', '4'])}${String.fromCharCode(PACKED_END)}comment`;
    const unpacker = new Unpacker();
    expect(unpacker.text(s, 0)).toBe('10.0.0.4 . 4');
    expect(s.slice(unpacker.end + 1)).toBe('comment');
  });

  it('a table visits its elements in batches as fullTransaction lists them, wide literals and comments included', () => {
    const table = new IncrementalNftTable();
    table.set('base', {
      sets: [{ kind: 'map', name: 'm', type: 'ipv4_addr . inet_service', valueType: 'verdict' }],
    });
    // Over two batches of 4096 in one container, a few texts with characters over 255 among them.
    const elements: NonNullable<NftContribution['elements']> = Array.from({ length: 9000 }, (_, i) => ({
      kind: 'element',
      container: 'm',
      key: [`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, String(i % 70_000)],
      value: [i % 1000 === 7 ? `goto ǅ${i}` : `goto c${i}`],
      ...(i % 3 === 0 ? { comment: `c${i}` } : {}),
      ...(i % 5 === 0 ? { timeout: `${i}s` } : {}),
    }));
    table.set('o', { elements });
    const visited: string[] = [];
    table.forEachElementText((container, key, value, comment, timeout) => {
      visited.push(JSON.stringify([container, key, value, comment, timeout]));
    });
    const listed = table
      .fullTransaction()
      .operations.filter((op) => op.object.kind === 'element')
      .map((op) => {
        const e = op.object as (typeof elements)[number];
        return JSON.stringify([e.container, joined(e.key), joined(e.value ?? []), e.comment, e.timeout]);
      });
    expect(visited).toHaveLength(9000);
    expect(visited).toEqual(listed);
    expect(visited[7]).toBe(JSON.stringify(['m', '10.0.0.7 . 7', 'goto ǅ7', undefined, undefined]));
  });
});
