import { describe, expect, it } from 'vitest';
import { valueAtPath } from '../src/index';

describe('valueAtPath', () => {
  it('walks objects and arrays, and stops where the path leaves them', () => {
    const doc = { a: { list: [{ b: 'x' }, null] }, n: 0 };
    expect(valueAtPath(doc, ['a', 'list', 0, 'b'])).toBe('x');
    expect(valueAtPath(doc, [])).toBe(doc);
    expect(valueAtPath(doc, ['n'])).toBe(0);
    expect(valueAtPath(doc, ['a', 'list', 1, 'b'])).toBeUndefined();
    expect(valueAtPath(doc, ['n', 'deeper'])).toBeUndefined();
    expect(valueAtPath(doc, ['missing', 'x'])).toBeUndefined();
  });
});
