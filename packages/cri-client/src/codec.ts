import type protobuf from 'protobufjs/minimal.js';
import type { MessageTypeName } from './generated/types';
import { messageType } from './message-type';

/** Recursively optional input form of a decoded message: what callers pass as requests. */
export type MessageInput<T> = T extends bigint
  ? bigint | number
  : T extends Uint8Array
    ? Uint8Array
    : T extends Array<infer U>
      ? Array<MessageInput<U>>
      : T extends object
        ? { [K in keyof T]?: MessageInput<NonNullable<T[K]>> | null }
        : T;

/** Protobuf encoding and decoding of one runtime.v1 message type. */
export interface MessageCodec<T> {
  readonly typeName: MessageTypeName;
  /** The message's wire bytes (unset fields as proto3 defaults). */
  encode(value: MessageInput<T>): Buffer;
  /** The message from its wire bytes, every field present. */
  decode(bytes: Uint8Array): T;
}

// Decode shape: 64-bit integers as bigint, enums as numbers, every scalar/list/map present with its
// proto3 default, unset sub-messages as null.
export const DECODE_OPTIONS: protobuf.IConversionOptions = {
  longs: BigInt as unknown as typeof Number,
  enums: Number,
  bytes: Buffer as unknown as typeof String,
  defaults: true,
  arrays: true,
  objects: true,
};

const codecs = new Map<string, MessageCodec<unknown>>();

/** Encoder/decoder for one runtime.v1 message, e.g. `messageCodec<VersionResponse>('VersionResponse')`. */
export function messageCodec<T>(typeName: MessageTypeName): MessageCodec<T> {
  const cached = codecs.get(typeName);
  if (cached) return cached as MessageCodec<T>;
  const type = messageType(`runtime.v1.${typeName.replace(/_/g, '.')}`);
  const codec: MessageCodec<T> = {
    typeName,
    encode(value) {
      const w = type.encode(type.fromObject(value as Record<string, unknown>));
      return Buffer.from(w.finish());
    },
    decode(bytes) {
      return type.toObject(type.decode(bytes), DECODE_OPTIONS) as T;
    },
  };
  codecs.set(typeName, codec as MessageCodec<unknown>);
  return codec;
}
