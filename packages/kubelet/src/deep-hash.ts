/**
 * Upstream's hashutil.DeepHashObject over FNV-32a (pkg/util/hash with apimachinery's
 * dump.ForHash): the value as go-spew prints it with `%#v` (sorted map keys, methods disabled),
 * fed to Go's hash/fnv New32a. The container hash and the checkpoint checksums are this over
 * different values; each builds the print of its own value from the pieces here.
 */

/** FNV-32a of the text's UTF-8 bytes (Go's hash/fnv New32a). */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** A byte slice's elements as spew prints them: decimal, space-separated, in brackets (`[123 34]`). */
export function spewBytes(bytes: Uint8Array): string {
  return `[${bytes.join(' ')}]`;
}

/** DeepHashObject of a `[]byte` (its print `([]uint8)[…]`), e.g. JSON bytes. */
export function deepHashBytes(bytes: Uint8Array): number {
  return fnv32a(`([]uint8)${spewBytes(bytes)}`);
}
