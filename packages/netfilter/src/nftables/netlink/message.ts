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

/** One message: nlmsghdr + nfgenmsg(family, version 0, resId) + `attributes` (already aligned). */
export function encodeNfnlMessage(
  type: number,
  flags: number,
  seq: number,
  family: number,
  attributes: Buffer,
  resId = 0,
): Buffer {
  const length = NLMSG_HDRLEN + NFGENMSG_LENGTH + attributes.length;
  const header = Buffer.allocUnsafe(NLMSG_HDRLEN + NFGENMSG_LENGTH);
  header.writeUInt32LE(length, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(flags, 6);
  header.writeUInt32LE(seq >>> 0, 8);
  header.writeUInt32LE(0, 12);
  header.writeUInt8(family, 16);
  header.writeUInt8(0, 17);
  header.writeUInt16BE(resId, 18);
  return attributes.length === 0 ? header : Buffer.concat([header, attributes], length);
}

/** NFNL_MSG_BATCH_BEGIN / END for the nf_tables subsystem. */
export function encodeBatchMarker(kind: 'begin' | 'end', seq: number): Buffer {
  return encodeNfnlMessage(
    kind === 'begin' ? NFNL_MSG_BATCH_BEGIN : NFNL_MSG_BATCH_END,
    NLM_F_REQUEST,
    seq,
    0,
    Buffer.alloc(0),
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
