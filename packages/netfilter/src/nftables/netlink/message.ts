// Framing of nfnetlink messages: nlmsghdr (host byte order) + nfgenmsg (family, version,
// res_id big-endian) + attributes, and splitting a received datagram back into messages.

import { InvalidFieldError } from '../../errors';
import {
  NFGENMSG_LENGTH,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFNL_SUBSYS_NFTABLES,
  NLM_F_REQUEST,
  NLMSG_HDRLEN,
} from './constants';

export interface NfnlMessageHeader {
  /** Full nlmsg type: `(NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_*`, or NLMSG_ERROR/DONE/NOOP. */
  type: number;
  flags: number;
  seq: number;
  /** Port of the sender (0: the kernel). */
  port: number;
}

export interface ReceivedMessage extends NfnlMessageHeader {
  /** Everything after the nlmsghdr (for nf_tables messages: nfgenmsg, then attributes). */
  body: Buffer;
}

/** nlmsg type of an nf_tables message. */
export function nftMessageType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

/** nlmsghdr + nfgenmsg bytes, before and after the attributes. */
export const NFNL_HEADER_LENGTH = NLMSG_HDRLEN + NFGENMSG_LENGTH;

/**
 * One message's nlmsghdr + nfgenmsg(family, version 0, resId) written at `at` of `out`, for a
 * message of `length` bytes in all: a batch writes its messages' headers in place.
 */
export function writeNfnlHeader(
  out: Buffer,
  at: number,
  length: number,
  type: number,
  flags: number,
  seq: number,
  family: number,
  resId = 0,
): void {
  out.writeUInt32LE(length, at);
  out.writeUInt16LE(type, at + 4);
  out.writeUInt16LE(flags, at + 6);
  out.writeUInt32LE(seq >>> 0, at + 8);
  out.writeUInt32LE(0, at + 12);
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

/** NFNL_MSG_BATCH_BEGIN / END for the nf_tables subsystem, written at `at` of `out` (NFNL_HEADER_LENGTH bytes). */
export function writeBatchMarker(out: Buffer, at: number, kind: 'begin' | 'end', seq: number): void {
  writeNfnlHeader(
    out,
    at,
    NFNL_HEADER_LENGTH,
    kind === 'begin' ? NFNL_MSG_BATCH_BEGIN : NFNL_MSG_BATCH_END,
    NLM_F_REQUEST,
    seq,
    0,
    NFNL_SUBSYS_NFTABLES,
  );
}

/** A bare message (no nfgenmsg): the NOOP barrier. */
export function encodeBareMessage(type: number, flags: number, seq: number): Buffer {
  const header = Buffer.alloc(NLMSG_HDRLEN);
  header.writeUInt32LE(NLMSG_HDRLEN, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(flags, 6);
  header.writeUInt32LE(seq >>> 0, 8);
  return header;
}

/** Split one datagram into its messages (a datagram may carry many). */
export function splitMessages(datagram: Buffer): ReceivedMessage[] {
  const messages: ReceivedMessage[] = [];
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= datagram.length) {
    const length = datagram.readUInt32LE(offset);
    if (length < NLMSG_HDRLEN || offset + length > datagram.length)
      throw new InvalidFieldError(
        `netlink message at offset ${offset}`,
        length,
        `is not a valid length (${datagram.length - offset} bytes left)`,
      );
    messages.push({
      type: datagram.readUInt16LE(offset + 4),
      flags: datagram.readUInt16LE(offset + 6),
      seq: datagram.readUInt32LE(offset + 8),
      port: datagram.readUInt32LE(offset + 12),
      body: datagram.subarray(offset + NLMSG_HDRLEN, offset + length),
    });
    offset += (length + 3) & ~3;
  }
  return messages;
}

/** NLMSG_ERROR body: errno (negative, 0 for an ACK) and the header of the message it answers. */
export function readErrorMessage(body: Buffer): { errno: number; seq: number; type: number } {
  if (body.length < 4 + NLMSG_HDRLEN)
    throw new InvalidFieldError('NLMSG_ERROR', body.length, 'bytes is too short for struct nlmsgerr');
  return {
    errno: -body.readInt32LE(0),
    type: body.readUInt16LE(4 + 4),
    seq: body.readUInt32LE(4 + 8),
  };
}

/** nfgenmsg family of a received nf_tables message, and its attributes. */
export function nftMessageParts(body: Buffer): { family: number; attributes: Buffer } {
  if (body.length < NFGENMSG_LENGTH)
    throw new InvalidFieldError('nf_tables message', body.length, 'bytes is too short for struct nfgenmsg');
  return { family: body.readUInt8(0), attributes: body.subarray(NFGENMSG_LENGTH) };
}
