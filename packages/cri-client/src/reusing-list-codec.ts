import protobuf from 'protobufjs/minimal.js';
import { DECODE_OPTIONS, type MessageCodec, messageCodec } from './codec';
import type { MessageTypeName } from './generated/types';
import { isMessageType, messageType } from './message-type';
import { ownedBytes } from './owned-bytes';

/** How many decodes a cached item survives unseen (two generations of this many calls each). */
const GENERATION_CALLS = 32;

interface CachedItem {
  /** The item's canonical wire bytes (a copy), compared in full before the decoded value is reused. */
  bytes: Buffer;
  value: unknown;
}

/**
 * The codec of a list answer (ListContainersResponse, ListPodSandboxResponse: one repeated message
 * field, nothing else) whose decode hands back the same frozen item object for an item whose wire
 * bytes are unchanged since an earlier answer. A kubelet lists every container and sandbox of the
 * node every second and, on a steady node, nothing in them changes: decoding 110 containers anew
 * allocated about 640 kB a second, which kept V8's young generation at its largest size (about
 * 30 MB of RSS) and cost CPU in decode and GC. Items are frozen (deeply, except byte fields), so a
 * caller that tried to change a shared item fails loudly instead of changing another call's answer.
 * Items unseen for 32 to 64 decodes are dropped.
 *
 * Items are compared in a canonical form, their map entries (labels, annotations) sorted: containerd
 * marshals Go maps in random order, so the same container comes with its labels shuffled from one
 * answer to the next. (A map with a key twice, which no runtime sends, could compare equal to a
 * reordering that decodes differently; maps nested deeper are compared as sent, which only costs a
 * decode.)
 */
export function reusingListCodec<T>(typeName: MessageTypeName): MessageCodec<T> {
  const plain = messageCodec<T>(typeName);
  const [field, ...others] = messageType(`runtime.v1.${typeName}`).fields;
  const itemType = field?.repeated && isMessageType(field.type) ? messageType(field.type) : undefined;
  if (!field || others.length > 0 || !itemType)
    throw new TypeError(`reusingListCodec: ${typeName} is not a message with one repeated message field`);
  const fieldName = field.name;
  const fieldNumber = field.id;
  const mapFields = new Set(itemType.fields.filter((f) => f.keyType !== undefined).map((f) => f.id));
  let scratch = Buffer.alloc(4096);
  /** Start and end offsets of the item's map entries, in pairs (reused: no garbage per item). */
  const entries: number[] = [];
  const empty = Buffer.alloc(0);
  const fieldReader = protobuf.Reader.create(empty);

  /**
   * Writes the item's fields to `scratch`, map entries last and sorted; returns the length. Bytes
   * are copied by hand: Buffer#copy of a range allocates a view each call.
   */
  const canonical = (bytes: Buffer, start: number, end: number): number => {
    if (scratch.length < end - start) scratch = Buffer.alloc(2 * (end - start));
    fieldReader.buf = bytes;
    fieldReader.pos = start;
    fieldReader.len = end;
    let length = 0;
    entries.length = 0;
    while (fieldReader.pos < end) {
      const fieldStart = fieldReader.pos;
      const tag = fieldReader.uint32();
      fieldReader.skipType(tag & 7);
      if (mapFields.has(tag >>> 3)) entries.push(fieldStart, fieldReader.pos);
      else for (let i = fieldStart; i < fieldReader.pos; i++) scratch[length++] = bytes[i]!;
    }
    // Insertion sort of the (few) entries by their bytes.
    for (let i = 2; i < entries.length; i += 2) {
      const entryStart = entries[i]!;
      const entryEnd = entries[i + 1]!;
      let j = i - 2;
      while (j >= 0 && compareRanges(bytes, entries[j]!, entries[j + 1]!, entryStart, entryEnd) > 0) {
        entries[j + 2] = entries[j]!;
        entries[j + 3] = entries[j + 1]!;
        j -= 2;
      }
      entries[j + 2] = entryStart;
      entries[j + 3] = entryEnd;
    }
    for (let k = 0; k < entries.length; k += 2)
      for (let i = entries[k]!; i < entries[k + 1]!; i++) scratch[length++] = bytes[i]!;
    return length;
  };
  let current = new Map<number, CachedItem>();
  let previous = new Map<number, CachedItem>();
  let calls = 0;

  const item = (bytes: Buffer, start: number, end: number): unknown => {
    const length = canonical(bytes, start, end);
    const hash = fnv1a(scratch, 0, length);
    const cached = current.get(hash) ?? previous.get(hash);
    if (cached && cached.bytes.length === length && sameBytes(scratch, cached.bytes, length)) {
      current.set(hash, cached);
      return cached.value;
    }
    const value = deepFreeze(itemType.toObject(itemType.decode(bytes.subarray(start, end)), DECODE_OPTIONS));
    current.set(hash, { bytes: ownedBytes(scratch, length), value });
    return value;
  };

  return {
    typeName,
    encode: plain.encode,
    decode(input) {
      const bytes = Buffer.isBuffer(input)
        ? input
        : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      const items: unknown[] = [];
      const reader = protobuf.Reader.create(bytes);
      while (reader.pos < reader.len) {
        const tag = reader.uint32();
        if (tag >>> 3 === fieldNumber && (tag & 7) === 2) {
          const length = reader.uint32();
          const start = reader.pos;
          reader.skip(length);
          items.push(item(bytes, start, start + length));
        } else {
          reader.skipType(tag & 7);
        }
      }
      // The answer goes with this call, not with the reader until the next relist a second later.
      fieldReader.buf = empty;
      fieldReader.len = 0;
      if (++calls % GENERATION_CALLS === 0) {
        previous = current;
        current = new Map();
      }
      return { [fieldName]: items } as T;
    },
  };
}

/** Byte order of bytes[aStart, aEnd) against bytes[bStart, bEnd). */
function compareRanges(bytes: Buffer, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = bytes[aStart + i]! - bytes[bStart + i]!;
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/** Whether the first `length` bytes of `a` are `b` (by hand, for the reason above). */
function sameBytes(a: Buffer, b: Buffer, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** 32-bit FNV-1a over bytes[start, end). */
function fnv1a(bytes: Buffer, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function deepFreeze<V>(value: V): V {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
