import { join } from 'node:path';
import { goJson } from '@nodeagent/primitives/go-text';
import { readCheckpointFile, writeCheckpointFile } from '../cpumanager/checkpoint-file';
import { ResourceManagerError } from '../cpumanager/resource-manager-error';
import { fnv32a } from '../deep-hash';
import type { ContainerMemoryAssignments, MemoryTable, NumaNodeMap } from './memory-state';

/** Upstream's memoryManagerStateFileName, under --root-dir. */
export const memoryManagerStateFile = 'memory_manager_state';

/** What the memory manager's checkpoint holds besides its policy name and checksum. */
export interface MemoryCheckpointContent {
  /** Per NUMA node, each memory type's sizes and the node's group. */
  machineState: NumaNodeMap;
  /** Pod UID → container name → the blocks it was given. */
  entries: ContainerMemoryAssignments;
}

/**
 * The name the checksum is computed under. v1.36 (PodLevelResourceManagers off) writes
 * MemoryManagerCheckpointV1 but hashes it as the older struct so that an older kubelet, which
 * knows no V1, still accepts the file after a rollback.
 */
const legacyTypeName = 'state.MemoryManagerCheckpoint';
/** Also accepted on read: what a v1.36 build before that rollback fix hashed under. */
const v1TypeName = 'state.MemoryManagerCheckpointV1';

/*
 * The checkpoint as Go holds it after json.Unmarshal: a JSON null (or an absent field) leaves a
 * slice or map nil, which go-spew prints as `<nil>` rather than `[]`/`map[]`, so the checksum of
 * a file an upstream kubelet accepted can only be reproduced from this view, not from the
 * normalised content.
 */
interface GoNumaNode {
  numberOfAssignments: number;
  memoryMap: Readonly<Record<string, MemoryTable>> | null;
  cells: readonly number[] | null;
}
interface GoBlock {
  numaAffinity: readonly number[] | null;
  type: string;
  size: number;
}
type GoEntries = Readonly<Record<string, Readonly<Record<string, readonly GoBlock[] | null>> | null>>;
interface GoCheckpoint {
  policyName: string;
  machineState: ReadonlyMap<number, GoNumaNode> | null;
  entries: GoEntries | null;
  checksum: number;
}

/** Go compares strings byte by byte (UTF-8), both in spew's SortKeys and in json.Marshal. */
function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sortedKeys(record: object): string[] {
  return Object.keys(record).sort(compareGoStrings);
}

/*
 * go-spew's `%#v` (dump.ForHash) of the checkpoint: a struct field prints `Name:(type)value`; a
 * map key, map value, slice element or pointee prints without its type; a pointer that is a map
 * value prints `<*>` before its struct; int map keys sort numerically, string keys bytewise.
 */

function spewInts(list: readonly number[] | null): string {
  return list === null ? '<nil>' : `[${list.join(' ')}]`;
}

function spewTable(table: MemoryTable): string {
  return (
    `<*>{TotalMemSize:(uint64)${table.total} SystemReserved:(uint64)${table.systemReserved} ` +
    `Allocatable:(uint64)${table.allocatable} Reserved:(uint64)${table.reserved} Free:(uint64)${table.free}}`
  );
}

function spewNode(node: GoNumaNode): string {
  const memoryMap = node.memoryMap;
  const tables =
    memoryMap === null
      ? '<nil>'
      : `map[${sortedKeys(memoryMap)
          .map((type) => `${type}:${spewTable(memoryMap[type]!)}`)
          .join(' ')}]`;
  return (
    `<*>{NumberOfAssignments:(int)${node.numberOfAssignments} ` +
    `MemoryMap:(map[v1.ResourceName]*state.MemoryTable)${tables} Cells:([]int)${spewInts(node.cells)}}`
  );
}

function spewMachineState(machineState: ReadonlyMap<number, GoNumaNode> | null): string {
  if (machineState === null) return '<nil>';
  const ids = [...machineState.keys()].sort((a, b) => a - b);
  return `map[${ids.map((id) => `${id}:${spewNode(machineState.get(id)!)}`).join(' ')}]`;
}

function spewBlocks(blocks: readonly GoBlock[] | null): string {
  if (blocks === null) return '<nil>';
  const printed = blocks.map(
    (block) =>
      `{NUMAAffinity:([]int)${spewInts(block.numaAffinity)} Type:(v1.ResourceName)${block.type} Size:(uint64)${block.size}}`,
  );
  return `[${printed.join(' ')}]`;
}

function spewEntries(entries: GoEntries | null): string {
  if (entries === null) return '<nil>';
  const pods = sortedKeys(entries).map((podUid) => {
    const containers = entries[podUid]!;
    if (containers === null) return `${podUid}:<nil>`;
    const printed = sortedKeys(containers).map((name) => `${name}:${spewBlocks(containers[name]!)}`);
    return `${podUid}:map[${printed.join(' ')}]`;
  });
  return `map[${pods.join(' ')}]`;
}

/** checksum.New of the checkpoint with its Checksum field 0, the struct named `typeName`. */
function goCheckpointChecksum(typeName: string, checkpoint: GoCheckpoint): number {
  return fnv32a(
    `(*${typeName}){PolicyName:(string)${checkpoint.policyName} ` +
      `MachineState:(state.NUMANodeMap)${spewMachineState(checkpoint.machineState)} ` +
      `Entries:(state.ContainerMemoryAssignments)${spewEntries(checkpoint.entries)} Checksum:(checksum.Checksum)0}`,
  );
}

function emptyContent(): MemoryCheckpointContent {
  return { machineState: {}, entries: {} };
}

function goView(policyName: string, content: MemoryCheckpointContent): GoCheckpoint {
  const machineState = new Map(Object.entries(content.machineState).map(([id, node]) => [Number(id), node]));
  return { policyName, machineState, entries: content.entries, checksum: 0 };
}

/**
 * The checksum upstream writes into (and checks on) a memory manager checkpoint: FNV-32a over
 * go-spew's print of the checkpoint struct, hashed under the legacy struct name unless
 * `typeName` says otherwise. Without `content`, the None policy's empty checkpoint.
 */
export function memoryCheckpointChecksum(
  policyName: string,
  content: MemoryCheckpointContent = emptyContent(),
  typeName = legacyTypeName,
): number {
  return goCheckpointChecksum(typeName, goView(policyName, content));
}

/** A JSON object with Go's key order: sorted as strings, so node 10 comes before node 2. */
function goJsonObject<T>(record: Readonly<Record<string, T>>, encode: (value: T) => string): string {
  const members = sortedKeys(record).map((key) => `${goJson(key)}:${encode(record[key]!)}`);
  return `{${members.join(',')}}`;
}

function encodeTable(table: MemoryTable): string {
  return (
    `{"total":${table.total},"systemReserved":${table.systemReserved},"allocatable":${table.allocatable},` +
    `"reserved":${table.reserved},"free":${table.free}}`
  );
}

function encodeMachineState(machineState: NumaNodeMap): string {
  return goJsonObject(
    machineState as Readonly<Record<string, NumaNodeMap[number]>>,
    (node) =>
      `{"numberOfAssignments":${node.numberOfAssignments},"memoryMap":${goJsonObject(node.memoryMap, encodeTable)},` +
      `"cells":${JSON.stringify(node.cells)}}`,
  );
}

function encodeEntries(entries: ContainerMemoryAssignments): string {
  return goJsonObject(entries, (containers) =>
    goJsonObject(containers, (blocks) => {
      const encoded = blocks.map(
        (block) =>
          `{"numaAffinity":${JSON.stringify(block.numaAffinity)},"type":${goJson(block.type)},"size":${block.size}}`,
      );
      return `[${encoded.join(',')}]`;
    }),
  );
}

/**
 * The checkpoint's text as upstream's json.Marshal writes it: fields in struct order, map keys
 * sorted, `entries` left out when empty (omitempty). Without `content`, the None policy's file.
 */
export function encodeMemoryManagerCheckpoint(
  policyName: string,
  content: MemoryCheckpointContent = emptyContent(),
): string {
  const entries =
    Object.keys(content.entries).length === 0 ? '' : `"entries":${encodeEntries(content.entries)},`;
  return (
    `{"policyName":${goJson(policyName)},"machineState":${encodeMachineState(content.machineState)},` +
    `${entries}"checksum":${memoryCheckpointChecksum(policyName, content)}}`
  );
}

/** Why a checkpoint cannot be restored; its message is the reason upstream would give. */
class CheckpointProblem extends Error {}

/** How Go's decoder names a JSON value in a type error. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : typeof value;
}

function typeProblem(value: unknown, goType: string): CheckpointProblem {
  return unmarshalProblem(jsonKind(value), goType);
}

function unmarshalProblem(kind: string, goType: string): CheckpointProblem {
  return new CheckpointProblem(`json: cannot unmarshal ${kind} into Go value of type ${goType}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A Go int or uint64 field: null or absent leaves it 0. */
function decodeInteger(value: unknown, goType: 'int' | 'uint64'): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number') throw typeProblem(value, goType);
  if (!Number.isInteger(value) || (goType === 'uint64' && value < 0))
    throw unmarshalProblem(`number ${value}`, goType);
  return value;
}

function decodeString(value: unknown, goType: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw typeProblem(value, goType);
  return value;
}

function decodeInts(value: unknown): number[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw typeProblem(value, '[]int');
  return value.map((item) => decodeInteger(item, 'int'));
}

/** A JSON object's members, or null for JSON null (a nil map). */
function decodeMap<T>(
  value: unknown,
  goType: string,
  decode: (member: unknown) => T,
): Record<string, T> | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw typeProblem(value, goType);
  const decoded: Record<string, T> = {};
  for (const [key, member] of Object.entries(value)) decoded[key] = decode(member);
  return decoded;
}

/*
 * A null node or memory table would be a nil pointer, which go-spew prints in a way that also
 * drops the type of whatever it prints next; no kubelet writes one, so such a file is refused.
 */
function nonNullPointee(value: unknown): unknown {
  if (value === null) throw new CheckpointProblem('checkpoint is corrupted');
  return value;
}

function decodeTable(value: unknown): MemoryTable {
  if (!isObject(value)) throw typeProblem(value, 'state.MemoryTable');
  return {
    total: decodeInteger(value.total, 'uint64'),
    systemReserved: decodeInteger(value.systemReserved, 'uint64'),
    allocatable: decodeInteger(value.allocatable, 'uint64'),
    reserved: decodeInteger(value.reserved, 'uint64'),
    free: decodeInteger(value.free, 'uint64'),
  };
}

function decodeNode(value: unknown): GoNumaNode {
  if (!isObject(value)) throw typeProblem(value, 'state.NUMANodeState');
  return {
    numberOfAssignments: decodeInteger(value.numberOfAssignments, 'int'),
    memoryMap: decodeMap(value.memoryMap, 'map[v1.ResourceName]*state.MemoryTable', (table) =>
      decodeTable(nonNullPointee(table)),
    ),
    cells: decodeInts(value.cells),
  };
}

function decodeMachineState(value: unknown): Map<number, GoNumaNode> | null {
  const nodes = decodeMap(value, 'state.NUMANodeMap', (node) => decodeNode(nonNullPointee(node)));
  if (nodes === null) return null;
  const machineState = new Map<number, GoNumaNode>();
  for (const [key, node] of Object.entries(nodes)) {
    // encoding/json reads an int map key with strconv.ParseInt.
    if (!/^[+-]?\d+$/.test(key)) throw unmarshalProblem(`number ${key}`, 'int');
    machineState.set(Number(key), node);
  }
  return machineState;
}

function decodeBlock(value: unknown): GoBlock {
  // A null element of a []Block leaves the zero Block.
  if (value === null) return { numaAffinity: null, type: '', size: 0 };
  if (!isObject(value)) throw typeProblem(value, 'state.Block');
  return {
    numaAffinity: decodeInts(value.numaAffinity),
    type: decodeString(value.type, 'v1.ResourceName'),
    size: decodeInteger(value.size, 'uint64'),
  };
}

function decodeEntries(value: unknown): GoEntries | null {
  return decodeMap(value, 'state.ContainerMemoryAssignments', (containers) =>
    decodeMap(containers, 'map[string][]state.Block', (blocks) => {
      if (blocks === undefined || blocks === null) return null;
      if (!Array.isArray(blocks)) throw typeProblem(blocks, '[]state.Block');
      return blocks.map(decodeBlock);
    }),
  );
}

/**
 * The checkpoint as upstream's json.Unmarshal into a fresh MemoryManagerCheckpointV1 leaves it:
 * absent fields keep their initial value (empty maps for the machine state and entries), a JSON
 * null makes a map or slice nil, unknown fields are ignored.
 */
function decodeCheckpoint(text: string): GoCheckpoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CheckpointProblem(
      text.trim() === '' ? 'unexpected end of JSON input' : (error as Error).message,
    );
  }
  // Unmarshalling JSON null into the struct pointer is a no-op.
  const object = parsed === null ? {} : parsed;
  if (!isObject(object)) throw typeProblem(object, 'state.MemoryManagerCheckpointV1');
  return {
    policyName: decodeString(object.policyName, 'string'),
    machineState: 'machineState' in object ? decodeMachineState(object.machineState) : new Map(),
    entries: 'entries' in object ? decodeEntries(object.entries) : {},
    checksum: decodeInteger(object.checksum, 'uint64'),
  };
}

/** Upstream's V1 VerifyChecksum: 0 is accepted (files from the old file backend carry none). */
function checksumAccepted(checkpoint: GoCheckpoint): boolean {
  if (checkpoint.checksum === 0) return true;
  return [v1TypeName, legacyTypeName].some(
    (typeName) => goCheckpointChecksum(typeName, checkpoint) === checkpoint.checksum,
  );
}

/** The restored state handed to the policy: nil maps and slices become empty ones. */
function normalise(checkpoint: GoCheckpoint): MemoryCheckpointContent {
  const content = emptyContent();
  for (const [id, node] of checkpoint.machineState ?? []) {
    const memoryMap: Record<string, MemoryTable> = {};
    for (const [type, table] of Object.entries(node.memoryMap ?? {})) memoryMap[type] = table;
    content.machineState[id] = {
      numberOfAssignments: node.numberOfAssignments,
      memoryMap,
      cells: [...(node.cells ?? [])],
    };
  }
  for (const [podUid, containers] of Object.entries(checkpoint.entries ?? {})) {
    const pod: ContainerMemoryAssignments[string] = {};
    for (const [name, blocks] of Object.entries(containers ?? {})) {
      pod[name] = (blocks ?? []).map((block) => ({
        numaAffinity: [...(block.numaAffinity ?? [])],
        type: block.type,
        size: block.size,
      }));
    }
    content.entries[podUid] = pod;
  }
  return content;
}

/**
 * Upstream's storeState: the checkpoint written in full (temp file + rename, synchronously), as
 * after every change of the machine state or the assignments.
 */
export function writeMemoryManagerCheckpoint(
  rootDir: string,
  policyName: string,
  content: MemoryCheckpointContent,
): void {
  writeCheckpointFile(
    join(rootDir, memoryManagerStateFile),
    encodeMemoryManagerCheckpoint(policyName, content),
  );
}

/**
 * Upstream's NewCheckpointState / restoreState: the state kept in the checkpoint under --root-dir.
 * A missing file is written fresh (empty machine state and assignments) and the empty state
 * returned. A file that does not parse, whose checksum is wrong or whose policy differs throws a
 * ResourceManagerError with upstream's text, naming the file to delete.
 */
export function restoreMemoryManagerCheckpoint(rootDir: string, policyName: string): MemoryCheckpointContent {
  const path = join(rootDir, memoryManagerStateFile);
  const text = readCheckpointFile(path);
  if (text === undefined) {
    const fresh = emptyContent();
    writeMemoryManagerCheckpoint(rootDir, policyName, fresh);
    return fresh;
  }
  try {
    const checkpoint = decodeCheckpoint(text);
    if (!checksumAccepted(checkpoint)) throw new CheckpointProblem('checkpoint is corrupted');
    if (checkpoint.policyName !== policyName)
      throw new CheckpointProblem(
        `[memorymanager] configured policy ${JSON.stringify(policyName)} differs from state checkpoint policy ${JSON.stringify(checkpoint.policyName)}`,
      );
    return normalise(checkpoint);
  } catch (error) {
    if (!(error instanceof CheckpointProblem)) throw error;
    const message = `could not restore state from checkpoint: ${error.message}, please drain this node and delete the memory manager checkpoint file ${JSON.stringify(path)} before restarting Kubelet`;
    throw new ResourceManagerError(
      'memoryManagerPolicy',
      policyName,
      `start memory manager error: ${message}`,
    );
  }
}
