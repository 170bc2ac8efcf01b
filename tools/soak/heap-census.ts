/**
 * What a V8 heap holds, counted by kind, and what grew between two heap snapshots: the soak's
 * answer to "which objects are behind an anon rise". A heap snapshot (`.heapsnapshot`, the format
 * V8 writes for DevTools) lists every node with its type, name and own size; nodes of the types
 * that name a constructor (objects, closures, native objects) are counted by that name, the rest
 * (strings, code, arrays, V8's internal objects) by type alone, so a class whose instances pile
 * up shows as one row however its strings and arrays are spread.
 */
import { readFileSync } from 'node:fs';

/** The parts of a `.heapsnapshot` the census reads. */
export interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and bytes (each node's own size) of one kind of node. */
export interface CensusEntry {
  count: number;
  bytes: number;
}

/** Node types counted by their constructor's name; every other type is one row. */
const NAMED_TYPES = new Set(['object', 'closure', 'native']);

/** Kind → count and own bytes, over every node of the snapshot. */
export function heapCensus(snapshot: HeapSnapshotJson): Map<string, CensusEntry> {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const type = fields.indexOf('type');
  const name = fields.indexOf('name');
  const size = fields.indexOf('self_size');
  if (width === 0 || type < 0 || name < 0 || size < 0)
    throw new Error(`heap snapshot: node_fields ${JSON.stringify(fields)} lack type, name or self_size`);
  const census = new Map<string, CensusEntry>();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += width) {
    const t = types[nodes[i + type] as number] ?? 'unknown';
    const key = NAMED_TYPES.has(t) ? `${t} ${strings[nodes[i + name] as number] || '(anonymous)'}` : t;
    const entry = census.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + size] as number;
    census.set(key, entry);
  }
  return census;
}

export function readHeapCensus(path: string): Map<string, CensusEntry> {
  return heapCensus(JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshotJson);
}

/** One kind's count and KiB in the earlier and the later snapshot. */
export interface GrowthRow {
  kind: string;
  count: [number, number];
  KiB: [number, number];
}

export interface HeapGrowth {
  /** All nodes' own sizes, MiB, earlier and later. */
  totalMiB: [number, number];
  /** The kinds whose bytes changed most, largest change first. */
  top: GrowthRow[];
}

const kib = (bytes: number) => Number((bytes / 1024).toFixed(1));
const mib = (bytes: number) => Number((bytes / 1048576).toFixed(2));

/** The `top` kinds by how much their bytes changed from `before` to `after`. */
export function heapGrowth(
  before: Map<string, CensusEntry>,
  after: Map<string, CensusEntry>,
  top = 12,
): HeapGrowth {
  const total = (c: Map<string, CensusEntry>) => [...c.values()].reduce((n, e) => n + e.bytes, 0);
  const none: CensusEntry = { count: 0, bytes: 0 };
  const rows = [...new Set([...before.keys(), ...after.keys()])].map((kind) => {
    const a = before.get(kind) ?? none;
    const b = after.get(kind) ?? none;
    const row: GrowthRow = { kind, count: [a.count, b.count], KiB: [kib(a.bytes), kib(b.bytes)] };
    return { row, delta: b.bytes - a.bytes };
  });
  rows.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.row.kind.localeCompare(y.row.kind));
  return {
    totalMiB: [mib(total(before)), mib(total(after))],
    top: rows.slice(0, top).map((r) => r.row),
  };
}
