import { describe, expect, it } from 'vitest';
import { sameJson } from '../src/apiserver/json-equality';

describe('sameJson: equality of wire values as their JSON, key order aside', () => {
  it('ignores key order at every depth, and undefined members as JSON leaves them out', () => {
    expect(
      sameJson({ a: 1, b: { c: [1, { d: 'x', e: null }] } }, { b: { c: [1, { e: null, d: 'x' }] }, a: 1 }),
    ).toBe(true);
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(true);
  });

  it('tells apart what JSON tells apart', () => {
    expect(sameJson({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJson({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(sameJson({ a: null }, {})).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson([1], [1, 1])).toBe(false);
    expect(sameJson({ 0: 'x' }, ['x'])).toBe(false);
    expect(sameJson({ a: [] }, { a: {} })).toBe(false);
    // A member named like a prototype property is compared as a member.
    expect(sameJson(JSON.parse('{"__proto__":{"x":1}}'), {})).toBe(false);
    expect(sameJson({ toString: 1 }, {})).toBe(false);
  });

  it('leaves the named top-level members out of the comparison', () => {
    const skip = new Set(['metadata', 'status']);
    const a = { metadata: { name: 'a', generation: 1 }, spec: { x: 1 }, status: { phase: 'Running' } };
    const b = { spec: { x: 1 }, metadata: { name: 'a', generation: 2 } };
    expect(sameJson(a, b, skip)).toBe(true);
    expect(sameJson(a, { ...b, spec: { x: 2 } }, skip)).toBe(false);
    expect(sameJson(a, { ...b, extra: true }, skip)).toBe(false);
    // Only at the top: a nested metadata is compared.
    expect(sameJson({ spec: { metadata: 1 } }, { spec: { metadata: 2 } }, skip)).toBe(false);
  });
});
