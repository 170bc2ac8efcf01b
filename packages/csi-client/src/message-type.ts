import type protobuf from 'protobufjs/minimal.js';
import { codecFunctions, enumValues } from './generated/codec-functions';
import { protobufRuntime } from './protobuf-runtime';

/** One message type's codec, built from the generated functions without protobufjs's reflection. */
export interface MessageType {
  readonly fullName: string;
  encode(message: object, writer?: protobuf.Writer): protobuf.Writer;
  decode(input: Uint8Array | protobuf.Reader, length?: number): object;
  fromObject(value: object): object;
  toObject(message: object, options?: protobuf.IConversionOptions): Record<string, unknown>;
}

const made = new Map<string, MessageType>();
const enums = new Map<string, { values: Record<string | number, string | number> }>();

/** The message type of that full name (`csi.v1.NodeGetInfoResponse`), made once. */
export function messageType(fullName: string): MessageType {
  const existing = made.get(fullName);
  if (existing) return existing;
  const codec = codecFunctions[fullName];
  if (!codec) throw new TypeError(`no CSI or plugin registration message type ${fullName}`);
  const types: unknown[] = [];
  const ctor = codec.ctor();
  const { Reader, Writer, util } = protobufRuntime();
  const type = {
    fullName,
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

function fieldType(name: string): MessageType | { values: Record<string | number, string | number> } | null {
  if (Object.hasOwn(codecFunctions, name)) return messageType(name);
  const byName = enumValues[name];
  if (!byName) return null;
  let e = enums.get(name);
  if (!e) {
    // protobufjs's Enum#values: names to numbers as own properties, numbers to names on its prototype.
    const byId: Record<number, string> = {};
    const values = Object.create(byId) as Record<string | number, string | number>;
    for (const [key, id] of Object.entries(byName)) {
      values[key] = id;
      byId[id] = key;
    }
    e = { values };
    enums.set(name, e);
  }
  return e;
}
