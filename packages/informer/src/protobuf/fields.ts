/* How decoded values go into the JSON-shaped objects, by Go's encoding/json rules. */

/** An `omitempty` string: only a non-empty one appears in the JSON. */
export function setString(into: Record<string, unknown>, key: string, value: string): void {
  if (value !== '') into[key] = value;
}

/** An `omitempty` number: only a non-zero one appears. */
export function setNumber(into: Record<string, unknown>, key: string, value: number): void {
  if (value !== 0) into[key] = value;
}

/** One element of a repeated field: the array exists once it has one (a nil slice is never `[]`). */
export function pushTo(into: Record<string, unknown>, key: string, value: unknown): void {
  const list = into[key] as unknown[] | undefined;
  if (list) list.push(value);
  else into[key] = [value];
}

/** The map of a `map<string, string>` field, made at its first entry. */
export function mapAt(into: Record<string, unknown>, key: string): Record<string, string> {
  let map = into[key] as Record<string, string> | undefined;
  if (!map) {
    map = {};
    into[key] = map;
  }
  return map;
}
