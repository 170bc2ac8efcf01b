/** A plain object's member, undefined when it is not its own (so `__proto__` and the like read as absent). */
function member(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** How many members of `o` are not undefined (those left out of its JSON), `skip` aside. */
function definedCount(o: Record<string, unknown>, skip: ReadonlySet<string> | undefined): number {
  let count = 0;
  for (const key of Object.keys(o)) if (o[key] !== undefined && !skip?.has(key)) count++;
  return count;
}

/**
 * Equality of two wire values regardless of object key order, undefined members left out (as
 * JSON leaves them out), so that a client's field order against the stored one compares equal,
 * as upstream's semantic equality on decoded structs does. `skip` names top-level members not
 * compared. Walks both values; nothing is serialized (the API server compares whole objects on
 * every update, e.g. a 50-endpoint EndpointSlice for its generation).
 */
export function sameJson(a: unknown, b: unknown, skip?: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object')
    return JSON.stringify(a) === JSON.stringify(b);
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const key of Object.keys(x)) {
    if (x[key] === undefined || skip?.has(key)) continue;
    if (!sameJson(x[key], member(y, key))) return false;
  }
  return definedCount(x, skip) === definedCount(y, skip);
}
