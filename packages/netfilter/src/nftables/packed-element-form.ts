// The packed form IncrementalNftTable keeps each element in (element-packer.ts builds it; the
// table, ElementTextBatch and the packed-element visitors read it): two flat strings per element.
// The id: its container's code, ID_SEP, its packed key (packed-parts.ts). The rest: its packed
// value, and with a comment or timeout, PACKED_END, the comment (NO_COMMENT when it has none),
// ID_SEP and the timeout.

/** Ends a packed id's container code, and a rest's comment. */
export const ID_SEP = '\u0000';
/** A rest's comment when the element has a timeout but no comment. */
export const NO_COMMENT = '\u0001';
/** The first one-character container code (\u0080 + the container's index in its table). */
export const FIRST_CONTAINER_CODE = 0x80;
/** How many containers get a one-character code; later ones are \u0001 + their name. */
export const CONTAINER_CODES = 128;

/** An element's comment and timeout, as a packed rest's tail holds them (undefined: none). */
export interface PackedTail {
  comment: string | undefined;
  timeout: string | undefined;
}

/**
 * Reads into `out` the tail of `rest`, whose packed value ends at `end` (its PACKED_END, or
 * rest.length when it has no tail): the comment and the timeout. The one reading of the tail the
 * table, the text batches and the encoder share; it makes no string but the two it returns.
 */
export function readPackedTail<T extends PackedTail>(rest: string, end: number, out: T): T {
  out.comment = undefined;
  out.timeout = undefined;
  if (end >= rest.length) return out;
  const sep = rest.indexOf(ID_SEP, end + 1);
  const comment = rest.slice(end + 1, sep);
  const timeout = rest.slice(sep + 1);
  if (comment !== NO_COMMENT) out.comment = comment;
  if (timeout) out.timeout = timeout;
  return out;
}
