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
 * Calls `visit` with each attribute of a run, in order (`rawType` still has its flag bits, the
 * payload is `buffer[start, end)`). An attribute whose length is below its header or overruns
 * the buffer throws `Invalid` (field: `<field> at offset <n>`, value: the length); trailing bytes
 * too few for a header are ignored, as the kernel's nla_for_each_attr does.
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
      throw new Invalid(
        `${field} at offset ${offset}`,
        length,
        `is not a valid length: it overruns the ${buffer.length - offset} bytes left`,
      );
    visit(buffer.readUInt16LE(offset + 2), offset + NLA_HEADER_LENGTH, offset + length);
    offset += nlaAlign(length);
  }
}

/** Every attribute of a run, in order (see forEachAttribute for the errors). */
export function readAttributes(
  buffer: Buffer,
  field?: string,
  Invalid?: NetlinkErrorClass,
): NetlinkAttribute[] {
  const attributes: NetlinkAttribute[] = [];
  forEachAttribute(
    buffer,
    (rawType, start, end) => {
      attributes.push({
        type: rawType & NLA_TYPE_MASK,
        nested: (rawType & NLA_F_NESTED) !== 0,
        payload: buffer.subarray(start, end),
      });
    },
    field,
    Invalid,
  );
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
  field?: string,
  Invalid?: NetlinkErrorClass,
): (Buffer | undefined)[] {
  const table: (Buffer | undefined)[] = new Array(maxType + 1);
  forEachAttribute(
    buffer,
    (rawType, start, end) => {
      const type = rawType & NLA_TYPE_MASK;
      if (type <= maxType) table[type] = buffer.subarray(start, end);
    },
    field,
    Invalid,
  );
  return table;
}
