/**
 * The value at `path` inside a parsed document, or undefined where the path leaves the objects:
 * how a config loader names the offending value of a schema issue (zod reports only the path).
 */
export function valueAtPath(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
