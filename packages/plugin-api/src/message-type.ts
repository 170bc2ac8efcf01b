import type protobuf from 'protobufjs/minimal.js';
import { PluginApiError } from './plugin-api-error';
import type { PrecompiledCodecs } from './precompiled-codec';
import { protobufRuntime } from './protobuf-runtime';

/** One message type's codec, built from the generated functions without protobufjs's reflection. */
export interface MessageType {
  readonly fullName: string;
  /** Writes a message (made by fromObject) as protobuf bytes. */
  encode(message: object, writer?: protobuf.Writer): protobuf.Writer;
  /** Reads a message from protobuf bytes. */
  decode(input: Uint8Array | protobuf.Reader, length?: number): object;
  /** A message from a plain object (enums by name or number, 64-bit integers as numbers). */
  fromObject(value: object): object;
  /** A plain object from a message, as `options` ask. */
  toObject(message: object, options?: protobuf.IConversionOptions): Record<string, unknown>;
}

type EnumType = { values: Record<string | number, string | number> };

/**
 * The message types of one set of generated codecs (scripts/generate-codecs.ts writes them): a
 * function from a full name (`v1beta1.ContainerAllocateResponse`) to its type, each made on first
 * use. `what` names the APIs in the error for a name that is none of theirs.
 */
export function precompiledMessageTypes(
  codecs: PrecompiledCodecs,
  enumsByName: Record<string, Record<string, number>>,
  what: string,
): (fullName: string) => MessageType {
  const made = new Map<string, MessageType>();
  const enums = new Map<string, EnumType>();

  function messageTypeOf(fullName: string): MessageType {
    const existing = made.get(fullName);
    if (existing) return existing;
    const codec = Object.hasOwn(codecs, fullName) ? codecs[fullName] : undefined;
    if (!codec)
      throw new PluginApiError('UNKNOWN_MESSAGE_TYPE', fullName, `no ${what} message type ${fullName}`);
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

  function fieldType(name: string): MessageType | EnumType | null {
    if (Object.hasOwn(codecs, name)) return messageTypeOf(name);
    const byName = enumsByName[name];
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

  return messageTypeOf;
}
