import { describe, expect, it } from 'vitest';
import { goJson } from '../src/go-text';

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
});
