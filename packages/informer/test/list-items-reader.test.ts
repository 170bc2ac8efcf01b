import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ListItemsReader } from '../src/list-items-reader';

/** The body cut at `cuts` (positions), read chunk by chunk: the items decoded and the rest. */
function read(body: string, cuts: number[]): { items: unknown[]; rest: unknown } {
  const reader = new ListItemsReader();
  const items: unknown[] = [];
  let from = 0;
  for (const at of [...cuts.filter((c) => c > 0 && c < body.length)]
    .sort((a, b) => a - b)
    .concat(body.length)) {
    reader.push(body.slice(from, at), (text) => items.push(JSON.parse(text)));
    from = at;
  }
  return { items, rest: JSON.parse(reader.end()) };
}

// Strings with what a scanner could trip on: quotes, backslashes, brackets, braces, `"items":[`.
const nasty = fc.stringMatching(/^[a-z"\\{}[\]:, é\u2028]{0,12}$/);
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    nasty,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(nasty, tie('value'), { maxKeys: 3 }),
  ),
})).value;

describe('ListItemsReader: a LIST body split into its items as chunks arrive', () => {
  it('property: any items, keys in any order, cut anywhere: each item as sent, the rest with items empty', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(nasty, json, { maxKeys: 4 }), { maxLength: 6 }),
        fc.dictionary(nasty, json, { maxKeys: 3 }),
        fc.boolean(),
        fc.array(fc.nat(2000), { maxLength: 30 }),
        fc.constantFrom('', ' ', '\n  '),
        (items, metadata, itemsFirst, cuts, space) => {
          const head = {
            kind: 'ConfigMapList',
            apiVersion: 'v1',
            metadata: { ...metadata, resourceVersion: '7' },
          };
          const body = itemsFirst
            ? JSON.stringify({ items, ...head }, null, space)
            : JSON.stringify({ ...head, items }, null, space);
          const got = read(body, cuts);
          expect(got.items).toEqual(items);
          expect(got.rest).toEqual({ ...head, items: [] });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('takes only the top-level items: an "items" key inside an item or the metadata stays where it is', () => {
    const item = { metadata: { name: 'a' }, spec: { items: [{ x: 1 }] }, data: { k: '"items":[{}]' } };
    const body = JSON.stringify({ metadata: { items: ['m'] }, items: [item, item] });
    for (const cut of [1, 17, 40, 41, 90, body.length - 2]) {
      const got = read(body, [cut]);
      expect(got.items).toEqual([item, item]);
      expect(got.rest).toEqual({ metadata: { items: ['m'] }, items: [] });
    }
  });

  it('keeps an escaped quote split from its backslash across chunks inside the string', () => {
    const item = { v: 'a\\"b\\\\' };
    const body = JSON.stringify({ items: [item] });
    for (let cut = 1; cut < body.length; cut++) expect(read(body, [cut]).items).toEqual([item]);
  });

  it('refuses a body that ends inside an item', () => {
    const reader = new ListItemsReader();
    const items: string[] = [];
    reader.push('{"metadata":{},"items":[{"a":1},{"b":', (t) => items.push(t));
    expect(items).toEqual(['{"a":1}']);
    expect(() => reader.end()).toThrow(SyntaxError);
  });
});
