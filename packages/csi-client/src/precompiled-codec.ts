import type protobuf from 'protobufjs/minimal.js';

type Fn = (...args: never[]) => unknown;

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
  ctor(): Fn;
  encode(writer: typeof protobuf.Writer, types: unknown[], util: typeof protobuf.util): Fn;
  decode(reader: typeof protobuf.Reader, types: unknown[], util: typeof protobuf.util, ctor: unknown): Fn;
  fromObject(types: unknown[], util: typeof protobuf.util, ctor: unknown): Fn;
  toObject(types: unknown[], util: typeof protobuf.util): Fn;
}

/** By full name without the leading dot (`csi.v1.NodeGetInfoResponse`). */
export type PrecompiledCodecs = Record<string, PrecompiledCodec>;
