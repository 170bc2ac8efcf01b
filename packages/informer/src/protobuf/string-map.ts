import type { ProtoReader } from './reader';

/**
 * One entry of a `map<string, string>` field (a message {key(1), value(2)}) added to `into`.
 * A missing key or value is the empty string, as Go's unmarshaller leaves it.
 */
export function readStringMapEntry(r: ProtoReader, into: Record<string, string>): void {
  const end = r.end();
  let key = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) key = r.string();
    else if (tag === 18) value = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'map entry');
  // An own property named `__proto__`, as JSON.parse makes it (an assignment would set the prototype).
  if (key === '__proto__')
    Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  else into[key] = value;
}
