import type { ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs/minimal.js';
import type { MessageInit } from './message-init';
import type { MessageType } from './message-type';
import { isPluginApiError, PluginApiError } from './plugin-api-error';

/**
 * How messages are turned into objects: enums by name (`HEALTHY`), 64-bit integers as numbers
 * (device counts, CPU ids and Unix seconds stay far below 2^53), unset scalars at their proto3
 * default and unset messages as null, so callers read `error` without checking for undefined.
 */
export const TO_OBJECT: protobuf.IConversionOptions = {
  enums: String,
  longs: Number,
  defaults: true,
  arrays: true,
  objects: true,
};

/** One service's methods as scripts/generate-codecs.ts writes them. */
export type ServiceMethods = readonly {
  name: string;
  request: string;
  response: string;
  requestStream?: true;
  responseStream?: true;
}[];

/**
 * One method as grpc-js calls and serves it: a client sends `MessageInit<Req>` and receives
 * `Res`; a server receives `Req` and answers `MessageInit<Res>`.
 */
export interface PluginMethod<Req, Res> {
  /** `/<service full name>/<method>`. */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  /** The client's encoder of a request. */
  requestSerialize: (value: MessageInit<Req>) => Buffer;
  /** The server's decoder of a request. */
  requestDeserialize: (bytes: Buffer) => Req;
  /** The server's encoder of an answer. */
  responseSerialize: (value: MessageInit<Res>) => Buffer;
  /** The client's decoder of an answer. */
  responseDeserialize: (bytes: Buffer) => Res;
  originalName?: string;
}

/** A message's bytes and back, for one message type: objects as TO_OBJECT makes them. */
export interface MessageCodec<T> {
  /** Protobuf bytes of `value`; a value that does not fit the type throws PluginApiError `INVALID_MESSAGE`. */
  encode(value: MessageInit<T>): Buffer;
  /** The message in `bytes`, every field present. */
  decode(bytes: Uint8Array): T;
}

/**
 * The codec of one message type; its generated functions are made on first use, so defining a
 * service costs nothing until it is called.
 */
export function lazyMessageCodec<T>(
  fullName: string,
  messageTypeOf: (fullName: string) => MessageType,
): MessageCodec<T> {
  let type: MessageType | undefined;
  const typeOf = () => {
    type ??= messageTypeOf(fullName);
    return type;
  };
  return {
    encode(value) {
      const t = typeOf();
      try {
        return Buffer.from(t.encode(t.fromObject(value as object)).finish());
      } catch (err) {
        if (isPluginApiError(err)) throw err;
        throw new PluginApiError(
          'INVALID_MESSAGE',
          fullName,
          `cannot encode ${fullName}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    },
    decode(bytes) {
      const t = typeOf();
      return t.toObject(t.decode(bytes), TO_OBJECT) as T;
    },
  };
}

/**
 * A grpc-js service definition from generated codecs: the method paths (`/<service>/<method>`),
 * each side's streaming, and the codecs, the same for a client and a server so both sides agree
 * on every byte.
 */
export function grpcServiceDefinition(
  service: string,
  methods: ServiceMethods,
  messageTypeOf: (fullName: string) => MessageType,
): ServiceDefinition {
  const def: Record<string, unknown> = {};
  for (const method of methods) {
    const req = lazyMessageCodec<object>(method.request, messageTypeOf);
    const res = lazyMessageCodec<object>(method.response, messageTypeOf);
    def[method.name] = {
      path: `/${service}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: req.encode,
      requestDeserialize: req.decode,
      responseSerialize: res.encode,
      responseDeserialize: res.decode,
      originalName: method.name,
    };
  }
  return def as ServiceDefinition;
}
