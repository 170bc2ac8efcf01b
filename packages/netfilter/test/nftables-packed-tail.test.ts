import { describe, expect, it } from 'vitest';
import { ContainerCodes, NftElementPacker } from '../src/nftables/element-packer';
import { type PackedTail, readPackedTail } from '../src/nftables/packed-element-form';
import { Unpacker } from '../src/nftables/packed-parts';

// A packed rest's tail (after its value's PACKED_END: comment or NO_COMMENT, \0, timeout) is read
// by one function for the table, the text batches and the encoder: it must give back what the
// packer was given, for rests as the packer builds them.

/** The rest the packer builds for a map element `value` (or a set element when undefined). */
function packedRest(value: string[] | undefined, comment?: string, timeout?: string): string {
  const packer = new NftElementPacker(new ContainerCodes());
  packer.element('m', ['10.0.0.1', 'tcp', '80'], value, comment, timeout);
  return packer.take().rests[0]!;
}

/** readPackedTail of `rest` at the end of its packed value, as the table finds it. */
function tailOf(rest: string): PackedTail & { value: string } {
  const unpacker = new Unpacker();
  const value = rest === '' ? '' : unpacker.text(rest, 0);
  const end = rest === '' ? 0 : unpacker.end;
  return readPackedTail(rest, end, { value, comment: 'stale', timeout: 'stale' });
}

describe('readPackedTail (issue #54)', () => {
  for (const value of [['goto endpoint-1'], undefined]) {
    const kind = value ? 'a map element' : 'a set element';

    it(`reads neither comment nor timeout when ${kind} has none`, () => {
      expect(tailOf(packedRest(value))).toEqual({
        value: value?.[0] ?? '',
        comment: undefined,
        timeout: undefined,
      });
    });

    it(`reads ${kind}'s comment alone`, () => {
      expect(tailOf(packedRest(value, 'ns/svc:p'))).toEqual({
        value: value?.[0] ?? '',
        comment: 'ns/svc:p',
        timeout: undefined,
      });
    });

    it(`reads ${kind}'s timeout alone (NO_COMMENT is no comment)`, () => {
      expect(tailOf(packedRest(value, undefined, '10800s'))).toEqual({
        value: value?.[0] ?? '',
        comment: undefined,
        timeout: '10800s',
      });
    });

    it(`reads ${kind}'s comment and timeout`, () => {
      expect(tailOf(packedRest(value, 'ns/svc:p', '10800s'))).toEqual({
        value: value?.[0] ?? '',
        comment: 'ns/svc:p',
        timeout: '10800s',
      });
    });
  }

  it('returns the object it was given, and reads no tail from an end at or past the rest', () => {
    const out: PackedTail = { comment: 'x', timeout: 'y' };
    expect(readPackedTail('abc', 3, out)).toBe(out);
    expect(out).toEqual({ comment: undefined, timeout: undefined });
  });
});
