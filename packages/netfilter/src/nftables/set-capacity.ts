// The size a large set or map is declared with when a full replacement creates it (issue #54).
//
// Why: the kernel's hash set (nft_rhash) starts with a table of 4 buckets unless the set is
// declared with a size (NFTA_SET_DESC_SIZE is its rhashtable's element hint). Growing it needs
// the rhashtable's worker, which is queued on the CPU that is inserting and cannot run there
// until the batch's sendmsg returns: every insert of a big batch then takes the slow path through
// the chain of tables still waiting to be migrated. Measured on 6.18 (2 cores), a full sync of
// 510k elements spent 1.1 s in the kernel without sizes and 0.5 s with its two large sets sized;
// at 2.04M elements 6.2 s against 2.4 s.
//
// The size is also a limit (the kernel refuses an element beyond it with ENFILE), so it is
// declared with room to grow, only for sets that are large already (a small set grows cheaply
// and stays unsized, as a listing of a small table shows it), and a table whose set would
// outgrow its declared size is replaced whole instead of diffed (IncrementalNftTable).

/** Sets with fewer elements than this at a full replacement are declared without a size. */
export const LARGE_SET_ELEMENTS = 16_384;

/**
 * The size to declare for a set holding `count` elements in a full replacement: twice the
 * count rounded up to a power of two (room to double before the next full replacement; a
 * stable figure between full syncs of similar tables), or undefined below LARGE_SET_ELEMENTS.
 */
export function setCapacity(count: number): number | undefined {
  if (count < LARGE_SET_ELEMENTS) return undefined;
  let size = LARGE_SET_ELEMENTS;
  while (size < 2 * count) size *= 2;
  return size;
}
