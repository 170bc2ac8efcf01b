// Framing of nfnetlink messages: nlmsghdr (host byte order) + nfgenmsg (family, version,
// res_id big-endian) + attributes, and splitting a received datagram back into messages.

import {
  encodeNetlinkMessage,
  type NetlinkErrorReply,
  type ReceivedNetlinkMessage,
  readNetlinkError,
  splitNetlinkMessages,
  writeNetlinkHeader,
} from '@nodeagent/primitives/netlink';
import { InvalidFieldError } from '../../errors';
import { NFGENMSG_LENGTH, NFNL_SUBSYS_NFTABLES, NLMSG_HDRLEN } from './constants';

// struct nlmsghdr's fields; `type` is `(NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_*`, or NLMSG_ERROR/DONE/NOOP.
export type { NetlinkMessageHeader as NfnlMessageHeader } from '@nodeagent/primitives/netlink';

/** A received message: its header and everything after the nlmsghdr (for nf_tables: nfgenmsg, then attributes). */
export type ReceivedMessage = ReceivedNetlinkMessage;

/** nlmsg type of an nf_tables message. */
export function nftMessageType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

/** nlmsghdr + nfgenmsg bytes, before and after the attributes. */
export const NFNL_HEADER_LENGTH = NLMSG_HDRLEN + NFGENMSG_LENGTH;

/**
 * One message's nlmsghdr + nfgenmsg(family, version 0, resId) written at `at` of `out`, for a
 * message of `length` bytes in all. (A batch's messages are written by batch-buffer.ts, through
 * a DataView: see there why not with these Buffer methods.)
 */
function writeNfnlHeader(
  out: Buffer,
  at: number,
  length: number,
  type: number,
  flags: number,
  seq: number,
  family: number,
  resId = 0,
): void {
  writeNetlinkHeader(out, at, length, type, flags, seq, 0);
  out.writeUInt8(family, at + 16);
  out.writeUInt8(0, at + 17);
  out.writeUInt16BE(resId, at + 18);
}

/** One message: nlmsghdr + nfgenmsg(family, version 0, resId) + `attributes` (already aligned). */
export function encodeNfnlMessage(
  type: number,
  flags: number,
  seq: number,
  family: number,
  attributes: Buffer,
  resId = 0,
): Buffer {
  const length = NFNL_HEADER_LENGTH + attributes.length;
  const out = Buffer.allocUnsafe(length);
  writeNfnlHeader(out, 0, length, type, flags, seq, family, resId);
  attributes.copy(out, NFNL_HEADER_LENGTH);
  return out;
}

/** A bare message (no nfgenmsg): the NOOP barrier. */
export function encodeBareMessage(type: number, flags: number, seq: number): Buffer {
  return encodeNetlinkMessage(type, flags, seq, 0, Buffer.alloc(0));
}

/** Split one datagram into its messages (a datagram may carry many); bad lengths are InvalidFieldError. */
export function splitMessages(datagram: Buffer): ReceivedMessage[] {
  return splitNetlinkMessages(datagram, InvalidFieldError);
}

/** NLMSG_ERROR body: errno (positive, 0 for an ACK) and the header of the message it answers. */
export function readErrorMessage(body: Buffer): NetlinkErrorReply {
  return readNetlinkError(body, InvalidFieldError);
}

/** nfgenmsg family of a received nf_tables message, and its attributes. */
export function nftMessageParts(body: Buffer): { family: number; attributes: Buffer } {
  if (body.length < NFGENMSG_LENGTH)
    throw new InvalidFieldError('nf_tables message', body.length, 'bytes is too short for struct nfgenmsg');
  return { family: body.readUInt8(0), attributes: body.subarray(NFGENMSG_LENGTH) };
}
