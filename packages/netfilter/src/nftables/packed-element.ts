// Elements in IncrementalNftTable's packed form (packed-parts.ts), as the table hands them to the
// netlink encoder for a full sync: the element's id (container code, \0, packed key) and its rest
// text (packed value; with a comment or timeout: PACKED_END, comment, \0, timeout). The encoder
// writes most keys and values from these strings without making any per element.

import { type PackedTail, readPackedTail } from './packed-element-form';
import type { Unpacker } from './packed-parts';

/**
 * Called once per element: its set or map, its id with the packed key starting at `keyAt`, and
 * its rest text ('' for a set element without comment or timeout).
 */
export type NftPackedElementVisitor = (container: string, id: string, keyAt: number, rest: string) => void;

/**
 * Packed elements: calls `visit` once per element, container by container (all of one
 * container's elements in a row). IncrementalNftTable.forEachPackedElement is one.
 */
export type NftPackedElementSource = (visit: NftPackedElementVisitor) => void;

/**
 * NftPackedElementSource in slices: iterating it visits the elements a slice (a few thousand)
 * per step, so the caller can hand the event loop back between steps while a full table is
 * encoded. IncrementalNftTable.packedElementSteps is one.
 */
export type NftPackedElementSteps = (visit: NftPackedElementVisitor) => Iterable<void>;

/** An element's texts, as NftElementTextVisitor takes them (one reused object: read it before the next call). */
export interface PackedElementTexts extends PackedTail {
  key: string;
  value: string;
}

/** The texts of the element with `id` (packed key from `keyAt`) and `rest`, into `out`. */
export function packedElementTexts(
  unpacker: Unpacker,
  id: string,
  keyAt: number,
  rest: string,
  out: PackedElementTexts,
): PackedElementTexts {
  out.key = unpacker.text(id, keyAt);
  if (rest === '') {
    out.value = '';
    return readPackedTail(rest, rest.length, out);
  }
  out.value = unpacker.text(rest, 0);
  return readPackedTail(rest, unpacker.end, out);
}
