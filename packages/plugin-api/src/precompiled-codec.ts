import type protobuf from 'protobufjs/minimal.js';

/** One of the generated functions, typed no further than a call. */
export type GeneratedFunction = (...args: never[]) => unknown;

/** One field of a message type as the generated functions index it. */
export interface FieldInfo {
  readonly name: string;
  /** A message's or enum's full name, else the scalar type (`string`). */
  readonly type: string;
  readonly repeated?: boolean;
  readonly keyType?: string;
}

/** One message type's functions as protobufjs generates them, each behind a factory taking its scope. */
export interface PrecompiledCodec {
  fields: readonly FieldInfo[];
  /** The message's constructor. */
  ctor(): GeneratedFunction;
  /** The encoder, given the runtime's Writer, the field types and utilities. */
  encode(writer: typeof protobuf.Writer, types: unknown[], util: typeof protobuf.util): GeneratedFunction;
  /** The decoder, given the runtime's Reader, the field types, utilities and the constructor. */
  decode(
    reader: typeof protobuf.Reader,
    types: unknown[],
    util: typeof protobuf.util,
    ctor: unknown,
  ): GeneratedFunction;
  /** The plain-object reader, given the field types, utilities and the constructor. */
  fromObject(types: unknown[], util: typeof protobuf.util, ctor: unknown): GeneratedFunction;
  /** The plain-object writer, given the field types and utilities. */
  toObject(types: unknown[], util: typeof protobuf.util): GeneratedFunction;
}

/** By full name without the leading dot (`v1beta1.ContainerAllocateResponse`). */
export type PrecompiledCodecs = Record<string, PrecompiledCodec>;
