/**
 * Orders strings by UTF-16 code unit, as Go's sort.Strings orders bytes for the ASCII names and
 * addresses sorted here. Used instead of localeCompare, which gives locale-dependent orders and
 * makes the runtime load ICU's collation data (~6 MiB resident in the executable).
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
