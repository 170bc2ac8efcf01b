import type protobuf from 'protobufjs/minimal.js';
import { codecFunctions, enumValues } from './generated/codec-functions';
import type { FieldInfo } from './precompiled-codecs';
import { protobufRuntime } from './protobuf-runtime';

/**
 * One runtime.v1 message type's encode/decode/fromObject/toObject: the functions protobufjs
 * generates for it (src/generated/codec-functions.ts), given the scope protobufjs's Type#setup
 * gives them, without protobufjs's reflection. Building that reflection (`Root.fromJSON` of the
 * whole runtime.v1 descriptor, then resolving every field) cost each kubelet start ~28 ms at its
 * first CRI call (issue #51), for functions that only need each field's type.
 */
export interface MessageType {
  readonly fullName: string;
  /** The fields in protobufjs's order. */
  readonly fields: readonly FieldInfo[];
  encode(message: object, writer?: protobuf.Writer): protobuf.Writer;
  decode(input: Uint8Array | protobuf.Reader, length?: number): object;
  fromObject(value: object): object;
  toObject(message: object, options?: protobuf.IConversionOptions): Record<string, unknown>;
}

/** What the generated functions read from an enum's slot in `types`: protobufjs's Enum#values. */
interface EnumValues {
  values: Record<string | number, string | number>;
}

const made = new Map<string, MessageType>();
const enums = new Map<string, EnumValues>();

/** The message type of that full name (e.g. `runtime.v1.VersionRequest`), made once. */
export function messageType(fullName: string): MessageType {
  const existing = made.get(fullName);
  if (existing) return existing;
  if (!isMessageType(fullName)) throw new TypeError(`no runtime.v1 message type ${fullName}`);
  const codec = codecFunctions[fullName]!;
  const types: unknown[] = [];
  const ctor = codec.ctor();
  const { Reader, Writer, util } = protobufRuntime();
  const type = {
    fullName,
    fields: codec.fields,
    encode: codec.encode(Writer, types, util),
    decode: codec.decode(Reader, types, util, ctor),
    fromObject: codec.fromObject(types, util, ctor),
    toObject: codec.toObject(types, util),
  } as MessageType;
  // Registered before its fields' types are made, so a type that contains itself finds itself.
  made.set(fullName, type);
  for (const field of codec.fields) types.push(fieldType(field.type));
  return type;
}

/** Whether a field's type (a full name or a scalar's name) is a runtime.v1 message type. */
export function isMessageType(name: string): boolean {
  return Object.hasOwn(codecFunctions, name);
}

/** A field's slot in `types`: its message type, its enum's values, or nothing for a scalar. */
function fieldType(name: string): MessageType | EnumValues | null {
  if (isMessageType(name)) return messageType(name);
  return Object.hasOwn(enumValues, name) ? enumOf(name, enumValues[name]!) : null;
}

/**
 * protobufjs's Enum keeps names to numbers as own properties of `values` and numbers to names on
 * its prototype (`valuesById`), so one lookup answers either way; the generated code relies on it.
 */
function enumOf(name: string, byName: Record<string, number>): EnumValues {
  let e = enums.get(name);
  if (!e) {
    const byId: Record<number, string> = {};
    const values = Object.create(byId) as Record<string | number, string | number>;
    for (const [key, id] of Object.entries(byName)) {
      values[key] = id;
      byId[id] = key; // a later alias wins, as in protobufjs
    }
    e = { values };
    enums.set(name, e);
  }
  return e;
}
