import { type NetlinkErrorClass, NetlinkFormatError } from './errors';

/** What a read gives: a value for a payload, undefined for a missing one (an absent attribute). */
export type ReadResult<P extends Buffer | undefined, T> = P extends Buffer ? T : T | undefined;

/** Where a value sits: a name, or an attribute type (`netlink attribute <type>`). */
export type AttributeField = string | number;

function tooShort(
  payload: Buffer,
  size: number,
  what: string,
  field: AttributeField,
  Invalid: NetlinkErrorClass,
): Error {
  return new Invalid(
    typeof field === 'number' ? `netlink attribute ${field}` : field,
    payload.length,
    `bytes is too short for a ${what} (${size} bytes)`,
  );
}

/**
 * Makes a reader of one integer kind: it checks the payload holds `size` bytes (a typed error
 * naming the field if not) and passes undefined through, so an absent attribute reads as absent.
 */
function integerReader<T>(size: number, what: string, read: (payload: Buffer) => T) {
  return <P extends Buffer | undefined>(
    payload: P,
    field: AttributeField = 'netlink attribute',
    Invalid: NetlinkErrorClass = NetlinkFormatError,
  ): ReadResult<P, T> => {
    if (payload === undefined) return undefined as ReadResult<P, T>;
    if (payload.length < size) throw tooShort(payload, size, what, field, Invalid);
    return read(payload) as ReadResult<P, T>;
  };
}

/** An 8-bit payload. */
export const readU8 = integerReader(1, 'u8', (p) => p.readUInt8(0));
/** A 16-bit payload in host byte order. */
export const readU16 = integerReader(2, 'u16', (p) => p.readUInt16LE(0));
/** A 16-bit payload in network byte order. */
export const readBe16 = integerReader(2, 'u16', (p) => p.readUInt16BE(0));
/** A 32-bit payload in host byte order. */
export const readU32 = integerReader(4, 'u32', (p) => p.readUInt32LE(0));
/** A 32-bit payload in network byte order. */
export const readBe32 = integerReader(4, 'u32', (p) => p.readUInt32BE(0));
/** A 64-bit payload in host byte order. */
export const readU64 = integerReader(8, 'u64', (p) => p.readBigUInt64LE(0));
/** A 64-bit payload in network byte order. */
export const readBe64 = integerReader(8, 'u64', (p) => p.readBigUInt64BE(0));

/** A string payload up to its first NUL (or its end). */
export function readString<P extends Buffer | undefined>(payload: P): ReadResult<P, string> {
  if (payload === undefined) return undefined as ReadResult<P, string>;
  const end = payload.indexOf(0);
  return payload.toString('utf8', 0, end === -1 ? payload.length : end) as ReadResult<P, string>;
}
