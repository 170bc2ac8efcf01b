import { describe, expect, it } from 'vitest';
import { goAtoi } from '../src/go-text/go-atoi';

// Go 1.24 on amd64: fmt.Println(strconv.Atoi(s)) for each text below.
describe('goAtoi', () => {
  it('takes a sign and decimal digits, as strconv.Atoi does', () => {
    expect(goAtoi('42')).toEqual({ value: 42 });
    expect(goAtoi('+7')).toEqual({ value: 7 });
    expect(goAtoi('-0')).toEqual({ value: 0 });
  });

  it("refuses anything else with Go's text, the value quoted as %q", () => {
    expect(goAtoi('')).toEqual({ error: 'strconv.Atoi: parsing "": invalid syntax' });
    expect(goAtoi(' 1')).toEqual({ error: 'strconv.Atoi: parsing " 1": invalid syntax' });
    expect(goAtoi('1\n')).toEqual({ error: 'strconv.Atoi: parsing "1\\n": invalid syntax' });
    expect(goAtoi('\u0001')).toEqual({ error: 'strconv.Atoi: parsing "\\x01": invalid syntax' });
  });

  it('reports a value past 64 bits as out of range', () => {
    expect('value' in goAtoi('9223372036854775807')).toBe(true);
    expect(goAtoi('9223372036854775808')).toEqual({
      error: 'strconv.Atoi: parsing "9223372036854775808": value out of range',
    });
    expect(goAtoi('-9223372036854775809')).toEqual({
      error: 'strconv.Atoi: parsing "-9223372036854775809": value out of range',
    });
  });
});
