import { type NetlinkErrorClass, NetlinkFormatError } from './errors';

/** What a read gives: a value for a payload, undefined for a missing one (an absent attribute). */
export type ReadResult<P extends Buffer | undefined, T> = P extends Buffer ? T : T | undefined;

/** Where a value sits: a name, or an attribute type (`netlink attribute <type>`). */
export type AttributeField = string | number;

/**
 * Whether there is a payload to read: false for an absent one (undefined), true when it holds
 * `size` bytes, a typed error naming the field when it is shorter. Each reader below is written
 * out rather than made by a factory: one shared body calling seven different decoders would be a
 * megamorphic call that V8 cannot inline, and decoding dumps is a hot path (measured 4x slower).
 */
function present(
  payload: Buffer | undefined,
  size: number,
  field: AttributeField,
  Invalid: NetlinkErrorClass,
): payload is Buffer {
  if (payload === undefined) return false;
  if (payload.length < size)
    throw new Invalid(
      typeof field === 'number' ? `netlink attribute ${field}` : field,
      payload.length,
      `bytes is too short for a u${size * 8} (${size} bytes)`,
    );
  return true;
}

/** An 8-bit payload. */
export function readU8<P extends Buffer | undefined>(
  payload: P,
  field: AttributeField = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): ReadResult<P, number> {
  return (present(payload, 1, field, Invalid) ? payload.readUInt8(0) : undefined) as ReadResult<P, number>;
}

/** A 16-bit payload in host byte order. */
export function readU16<P extends Buffer | undefined>(
  payload: P,
  field: AttributeField = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): ReadResult<P, number> {
  return (present(payload, 2, field, Invalid) ? payload.readUInt16LE(0) : undefined) as ReadResult<P, number>;
}

/** A 16-bit payload in network byte order. */
export function readBe16<P extends Buffer | undefined>(
  payload: P,
  field: AttributeField = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): ReadResult<P, number> {
  return (present(payload, 2, field, Invalid) ? payload.readUInt16BE(0) : undefined) as ReadResult<P, number>;
}

/** A 32-bit payload in host byte order. */
export function readU32<P extends Buffer | undefined>(
  payload: P,
  field: AttributeField = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): ReadResult<P, number> {
  return (present(payload, 4, field, Invalid) ? payload.readUInt32LE(0) : undefined) as ReadResult<P, number>;
}

/** A 32-bit payload in network byte order. */
export function readBe32<P extends Buffer | undefined>(
  payload: P,
  field: AttributeField = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): ReadResult<P, number> {
  return (present(payload, 4, field, Invalid) ? payload.readUInt32BE(0) : undefined) as ReadResult<P, number>;
}

/** A 64-bit payload in host byte order. */
export function readU64<P extends Buffer | undefined>(
  payload: P,
  field: AttributeField = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): ReadResult<P, bigint> {
  return (present(payload, 8, field, Invalid) ? payload.readBigUInt64LE(0) : undefined) as ReadResult<
    P,
    bigint
  >;
}

/** A 64-bit payload in network byte order. */
export function readBe64<P extends Buffer | undefined>(
  payload: P,
  field: AttributeField = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): ReadResult<P, bigint> {
  return (present(payload, 8, field, Invalid) ? payload.readBigUInt64BE(0) : undefined) as ReadResult<
    P,
    bigint
  >;
}

/** A string payload up to its first NUL (or its end). */
export function readString<P extends Buffer | undefined>(payload: P): ReadResult<P, string> {
  if (payload === undefined) return undefined as ReadResult<P, string>;
  const end = payload.indexOf(0);
  return payload.toString('utf8', 0, end === -1 ? payload.length : end) as ReadResult<P, string>;
}
