import { fnv32a } from '../deep-hash';

/**
 * Upstream's checkpoint checksum (pkg/kubelet/checkpointmanager/checksum): FNV-32a over the
 * checkpoint struct as go-spew prints it for hashing (hashutil.DeepHashObject / dump.ForHash:
 * `%#v` with sorted map keys, methods disabled). For the flat structs the CPU and memory
 * managers checkpoint that print is: `(*state.Name){Field:(goType)value ...}`, each field with
 * its Go type in parentheses, strings bare, maps as `map[k:v ...]` with keys sorted and no type
 * on keys, values or nested maps, and the Checksum field itself 0.
 */

/** A field value as spew prints it: a string or number bare, a map of these as `map[...]`. */
export type GoDumpValue = string | number | { readonly [key: string]: GoDumpValue };

/** One struct field: its Go name, its Go type as spew names it, and its value. */
export interface GoDumpField {
  name: string;
  goType: string;
  value: GoDumpValue;
}

function dumpValue(value: GoDumpValue): string {
  if (typeof value !== 'object') return String(value);
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${keys.map((key) => `${key}:${dumpValue(value[key]!)}`).join(' ')}]`;
}

/** The spew print of a pointer to the struct `typeName` (e.g. `state.CPUManagerCheckpoint`). */
export function goDumpForHash(typeName: string, fields: readonly GoDumpField[]): string {
  const body = fields.map((field) => `${field.name}:(${field.goType})${dumpValue(field.value)}`).join(' ');
  return `(*${typeName}){${body}}`;
}

/** Upstream checksum.New for a checkpoint struct whose Checksum field is 0. */
export function checkpointChecksum(typeName: string, fields: readonly GoDumpField[]): number {
  return fnv32a(goDumpForHash(typeName, fields));
}
