import { NLA_F_NESTED, NLA_HEADER_LENGTH, NLA_TYPE_MASK, nlaAlign } from './constants';
import { type NetlinkErrorClass, NetlinkFormatError } from './errors';

/** One attribute read back. */
export interface NetlinkAttribute {
  /** The type without the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits. */
  type: number;
  /** Whether NLA_F_NESTED was set. */
  nested: boolean;
  /** A view into the message (no copy). */
  payload: Buffer;
}

/**
 * The error for an attribute at `offset` whose `length` is below its header or past the end of
 * the buffer (field: `<field> at offset <n>`, value: the length). Each reader checks inline and
 * keeps its own loop: one loop calling a callback shared by every reader measured several times
 * slower on the hot path of decoding dumps (a call V8 cannot inline).
 */
function badLength(
  buffer: Buffer,
  offset: number,
  length: number,
  field: string,
  Invalid: NetlinkErrorClass,
): Error {
  return new Invalid(
    `${field} at offset ${offset}`,
    length,
    `is not a valid length: it overruns the ${buffer.length - offset} bytes left`,
  );
}

/**
 * Calls `visit` with each attribute of a run, in order (`rawType` still has its flag bits, the
 * payload is `buffer[start, end)`): for a decoder that reads in place. A bad length throws
 * `Invalid` naming the offset; trailing bytes too few for a header are ignored, as the kernel's
 * nla_for_each_attr does.
 */
export function forEachAttribute(
  buffer: Buffer,
  visit: (rawType: number, start: number, end: number) => void,
  field = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): void {
  let offset = 0;
  while (offset + NLA_HEADER_LENGTH <= buffer.length) {
    const length = buffer.readUInt16LE(offset);
    if (length < NLA_HEADER_LENGTH || offset + length > buffer.length)
      throw badLength(buffer, offset, length, field, Invalid);
    visit(buffer.readUInt16LE(offset + 2), offset + NLA_HEADER_LENGTH, offset + length);
    offset += nlaAlign(length);
  }
}

/** Every attribute of a run, in order (errors as forEachAttribute's). */
export function readAttributes(
  buffer: Buffer,
  field = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): NetlinkAttribute[] {
  const attributes: NetlinkAttribute[] = [];
  let offset = 0;
  while (offset + NLA_HEADER_LENGTH <= buffer.length) {
    const length = buffer.readUInt16LE(offset);
    if (length < NLA_HEADER_LENGTH || offset + length > buffer.length)
      throw badLength(buffer, offset, length, field, Invalid);
    const rawType = buffer.readUInt16LE(offset + 2);
    attributes.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      payload: buffer.subarray(offset + NLA_HEADER_LENGTH, offset + length),
    });
    offset += nlaAlign(length);
  }
  return attributes;
}

/** Attributes by type; the last one wins for a repeated type, as the kernel's nla_parse does. */
export function attributesByType(
  buffer: Buffer,
  field?: string,
  Invalid?: NetlinkErrorClass,
): Map<number, NetlinkAttribute> {
  const byType = new Map<number, NetlinkAttribute>();
  for (const attribute of readAttributes(buffer, field, Invalid)) byType.set(attribute.type, attribute);
  return byType;
}

/**
 * Payloads in an array indexed by type (types above `maxType` are skipped; the last one wins):
 * cheaper than a Map on the hot path of decoding large dumps.
 */
export function attributeTable(
  buffer: Buffer,
  maxType: number,
  field = 'netlink attribute',
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): (Buffer | undefined)[] {
  const table: (Buffer | undefined)[] = new Array(maxType + 1);
  let offset = 0;
  while (offset + NLA_HEADER_LENGTH <= buffer.length) {
    const length = buffer.readUInt16LE(offset);
    if (length < NLA_HEADER_LENGTH || offset + length > buffer.length)
      throw badLength(buffer, offset, length, field, Invalid);
    const type = buffer.readUInt16LE(offset + 2) & NLA_TYPE_MASK;
    if (type <= maxType) table[type] = buffer.subarray(offset + NLA_HEADER_LENGTH, offset + length);
    offset += nlaAlign(length);
  }
  return table;
}
