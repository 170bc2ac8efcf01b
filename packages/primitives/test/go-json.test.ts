import { describe, expect, it } from 'vitest';
import { goJson, goSortedMap } from '../src/go-text';

describe('goJson (Go encoding/json text)', () => {
  it("escapes what Go's HTML-safe encoder escapes and nothing else", () => {
    expect(goJson({ image: 'a<b>&c', line: 'x\u2028y\u2029z', name: 'plain é' })).toBe(
      '{"image":"a\\u003cb\\u003e\\u0026c","line":"x\\u2028y\\u2029z","name":"plain é"}',
    );
  });

  it('writes the bytes upstream hashes for a container (json.Marshal of its name and image)', () => {
    expect(goJson({ image: 'foo/image:v1', name: 'test_container' })).toBe(
      '{"image":"foo/image:v1","name":"test_container"}',
    );
  });

  it('writes a map in the key order Go writes it', () => {
    expect(
      goJson(
        goSortedMap([
          ['requests', 1],
          ['limits', 2],
          ['claims', 3],
        ]),
      ),
    ).toBe('{"claims":3,"limits":2,"requests":1}');
  });
});
