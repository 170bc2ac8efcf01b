/**
 * JSON text as Go's encoding/json writes it: JSON.stringify's, with `<`, `>`, `&`, U+2028 and
 * U+2029 escaped as `\u003c` and so on (Go's HTML-safe default). Object keys keep the order they
 * are given in; Go sorts a map's keys, so pass a map through goSortedMap. Checksums and hashes
 * upstream computes over such bytes (checkpoints, the container hash) come out the same.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A map's entries in the order Go's json.Marshal writes them (keys sorted), as an object for goJson. */
export function goSortedMap<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
