// Netlink attributes as nf_tables uses them: netlink's own (struct nlattr, written and read by
// @nodeagent/primitives/netlink), with nf_tables' conventions on top: its integers are big-endian
// (network order), and a malformed attribute is this package's InvalidFieldError, the error
// every caller of the nftables codec already handles.

import {
  type NetlinkAttribute,
  NetlinkAttributeWriter,
  readBe16,
  readBe32,
  readBe64,
  readString,
  readU8,
  attributesByType as sharedAttributesByType,
  readAttributes as sharedReadAttributes,
} from '@nodeagent/primitives/netlink';
import { InvalidFieldError } from '../../errors';

export { type NetlinkAttribute, NLA_F_NESTED } from '@nodeagent/primitives/netlink';

/**
 * The netlink attribute writer with nf_tables' integers: `u16`/`u32`/`u64` are network order
 * here (nf_tables declares them NLA_BE16/NLA_BE32/NLA_BE64), and errors are InvalidFieldError.
 */
export class AttributeWriter extends NetlinkAttributeWriter {
  protected override invalid(field: string, value: unknown, reason: string): Error {
    return new InvalidFieldError(field, value, reason);
  }

  /** Big-endian u16 (nf_tables' network-order integers). */
  override u16(type: number, value: number): this {
    return this.be16(type, value);
  }

  /** Big-endian u32 (nf_tables' network-order integers). */
  override u32(type: number, value: number): this {
    return this.be32(type, value);
  }

  /** Big-endian u64 (handles, timeouts in ms, counters). */
  override u64(type: number, value: bigint | number): this {
    return this.be64(type, value);
  }
}

/** Read a run of attributes; a truncated or overlong header is an InvalidFieldError. */
export function readAttributes(buffer: Buffer): NetlinkAttribute[] {
  return sharedReadAttributes(buffer, undefined, InvalidFieldError);
}

/** Attributes by type (the last one wins, as the kernel's nla_parse does). */
export function attributesByType(buffer: Buffer): Map<number, NetlinkAttribute> {
  return sharedAttributesByType(buffer, undefined, InvalidFieldError);
}

export const attributeU8 = (attribute: NetlinkAttribute): number =>
  readU8(attribute.payload, attribute.type, InvalidFieldError);

export const attributeU16 = (attribute: NetlinkAttribute): number =>
  readBe16(attribute.payload, attribute.type, InvalidFieldError);

export const attributeU32 = (attribute: NetlinkAttribute): number =>
  readBe32(attribute.payload, attribute.type, InvalidFieldError);

export const attributeU64 = (attribute: NetlinkAttribute): bigint =>
  readBe64(attribute.payload, attribute.type, InvalidFieldError);

/** String up to the first NUL (or the end of the payload). */
export const attributeString = (attribute: NetlinkAttribute): string => readString(attribute.payload);
