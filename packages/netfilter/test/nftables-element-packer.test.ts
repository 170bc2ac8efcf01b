import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IncrementalNftTable,
  type NftContribution,
  type NftElement,
  renderScript,
} from '../src/nftables/index';

// A table's packer builds elements straight into its packed form (issue #54): part by part (a
// key's first parts perhaps packed once for several keys), a number or an address's bits
// packing as their canonical text would, so a contribution of packed elements is the very same
// to the table as one of element objects.

/** The canonical decimal 0-65535 `part` is, else undefined. */
const canonicalNumber = (part: string) =>
  /^(0|[1-9][0-9]{0,4})$/.test(part) && Number(part) < 65536 ? Number(part) : undefined;
const octet = '(0|[1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5])';
const quad = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);
/** The 32 bits of the canonical dotted quad `part` is, else undefined. */
const ipv4Bits = (part: string) =>
  quad.test(part) ? part.split('.').reduce((bits, o) => bits * 256 + Number(o), 0) : undefined;

// Numbers and addresses (often repeated, as a hairpin key's or a port and a slot), and texts
// that only look like them.
const part = fc.oneof(
  fc.constantFrom('10.0.0.1', '10.0.0.2', '80', '7', '8080', '65535', '0'),
  fc.tuple(...Array.from({ length: 4 }, () => fc.integer({ min: 0, max: 255 }))).map((o) => o.join('.')),
  fc.integer({ min: 0, max: 70_000 }).map(String),
  fc.constantFrom('tcp', '080', '01.2.3.4', '256.0.0.1', 'fd00::1', 'a . 80', '80 . 80', 'ǅx', '\u0005'),
);
const element = fc.record({
  container: fc.constantFrom('m', 'n'),
  key: fc.array(part, { minLength: 1, maxLength: 5 }),
  value: fc.option(fc.array(part, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  comment: fc.option(fc.constantFrom('c', 'ns/svc:p'), { nil: undefined }),
  timeout: fc.option(fc.constantFrom('5s'), { nil: undefined }),
  // Per part: given as text, or as its number or bits when it has them.
  asText: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
});
type Generated = typeof element extends fc.Arbitrary<infer T> ? T : never;

/** `e` packed part by part into `t`'s packer, each part as `e.asText` says. */
function packPartByPart(t: IncrementalNftTable, e: Generated): void {
  const p = t.packer;
  const add = (parts: readonly string[], from: number) =>
    parts.forEach((text, i) => {
      const n = canonicalNumber(text);
      const bits = ipv4Bits(text);
      if (e.asText[(from + i) % 8] || (n === undefined && bits === undefined)) p.part(text);
      else if (n !== undefined) p.number(n);
      else p.ipv4(bits!);
    });
  // Some keys start from a prefix of their first parts, packed once (keyPrefix, keyFrom).
  const prefixed = e.key.length > 1 && e.asText[7] ? 1 + (e.key.length % (e.key.length - 1)) : 0;
  if (prefixed > 0) p.keyFrom(p.keyPrefix(e.container, e.key.slice(0, prefixed)));
  else p.key(e.container);
  add(e.key.slice(prefixed), prefixed);
  if (e.value) {
    p.value();
    add(e.value, e.key.length);
  }
  p.end(e.comment, e.timeout);
}

const asElement = (e: Generated): NftElement => ({
  kind: 'element',
  container: e.container,
  key: e.key,
  ...(e.value ? { value: e.value } : {}),
  ...(e.comment !== undefined ? { comment: e.comment } : {}),
  ...(e.timeout !== undefined ? { timeout: e.timeout } : {}),
});

const maps: NftContribution = {
  sets: [
    { kind: 'map', name: 'm', type: 'ipv4_addr', valueType: 'ipv4_addr' },
    { kind: 'map', name: 'n', type: 'ipv4_addr', valueType: 'ipv4_addr' },
  ],
};

describe("a table's element packer (issue #54)", () => {
  it('packs part by part (numbers, address bits, texts) what element() packs from the texts', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 6 }), (elements) => {
        const t = new IncrementalNftTable();
        for (const e of elements) packPartByPart(t, e);
        const byParts = t.packer.take();
        for (const e of elements) t.packer.element(e.container, e.key, e.value, e.comment, e.timeout);
        const byTexts = t.packer.take();
        expect(byParts.ids).toEqual(byTexts.ids);
        expect(byParts.rests).toEqual(byTexts.rests);
      }),
      { numRuns: 2000 },
    );
  });

  it('makes a contribution the table takes as it takes the same element objects: full, diff and kept', () => {
    fc.assert(
      fc.property(
        fc.array(element, { maxLength: 6 }),
        fc.array(element, { maxLength: 6 }),
        (first, second) => {
          const objects = new IncrementalNftTable();
          const packed = new IncrementalNftTable();
          const set = (elements: Generated[]) => {
            objects.set('o', { elements: elements.map(asElement) });
            for (const e of elements) packPartByPart(packed, e);
            packed.set('o', { packedElements: packed.packer.take() });
          };
          objects.set('base', maps);
          packed.set('base', maps);
          set(first);
          expect(renderScript('ip', 't', packed.fullTransaction())).toBe(
            renderScript('ip', 't', objects.fullTransaction()),
          );
          objects.commit();
          packed.commit();
          set(second);
          expect(packed.dirtyCount).toBe(objects.dirtyCount);
          expect(renderScript('ip', 't', packed.diffTransaction()!)).toBe(
            renderScript('ip', 't', objects.diffTransaction()!),
          );
          objects.commit();
          packed.commit();
          // The same again: nothing recorded (but for an id the owner gives twice, as ever).
          set(second);
          expect(packed.dirtyCount).toBe(objects.dirtyCount);
          if (new Set(second.map((e) => `${e.container} ${e.key.join(' . ')}`)).size === second.length)
            expect(packed.dirtyCount).toBe(0);
          expect(packed.get('o')).toEqual(objects.get('o'));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('packs a number beyond 65535 as its text (a literal), and drops what clear() is given', () => {
    const t = new IncrementalNftTable();
    t.packer.key('m').number(70_000).number(70_000).value().number(65_535).end();
    t.packer.clear();
    t.packer.key('m').number(70_000).number(70_000).value().number(65_535).end();
    const byNumbers = t.packer.take();
    t.packer.element('m', ['70000', '70000'], ['65535']);
    expect(byNumbers).toEqual(t.packer.take());
    expect(byNumbers.ids).toHaveLength(1);
  });

  it('hands each take() its own lists: packing more (fewer, or past the kept scratch) leaves them as they were', () => {
    // The packer reuses its lists from take() to take() (issue #54: no list grown by copying per
    // owner); what it handed over must not change with what it packs next.
    const t = new IncrementalNftTable();
    const pack = (n: number, base: number) => {
      for (let i = 0; i < n; i++)
        t.packer
          .key('m')
          .number(base + i)
          .value()
          .number(i)
          .end();
      return t.packer.take();
    };
    const first = pack(3, 100);
    const firstCopy = { ids: [...first.ids], rests: [...first.rests] };
    const second = pack(2, 200);
    const huge = pack(20_000, 0);
    const third = pack(3, 300);
    expect(first.ids).toEqual(firstCopy.ids);
    expect(first.rests).toEqual(firstCopy.rests);
    expect([second.ids.length, huge.ids.length, third.ids.length]).toEqual([2, 20_000, 3]);
    expect(huge.rests).toHaveLength(20_000);
    t.packer.element('m', ['300'], ['0']);
    expect(t.packer.take().ids).toEqual(third.ids.slice(0, 1));
    expect(new Set([first.ids, second.ids, huge.ids, third.ids]).size).toBe(4);
  });

  it("refuses another table's packed elements, and elements given both ways", () => {
    const t = new IncrementalNftTable();
    const other = new IncrementalNftTable();
    other.packer.key('m').part('10.0.0.1').end();
    expect(() => t.set('o', { packedElements: other.packer.take() })).toThrow(/another table/);
    t.packer.key('m').part('10.0.0.1').end();
    const packedElements = t.packer.take();
    const elements: NftElement[] = [{ kind: 'element', container: 'm', key: ['10.0.0.2'] }];
    expect(() => t.set('o', { packedElements, elements })).toThrow(/not both/);
  });
});
