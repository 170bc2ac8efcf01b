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
import {
  NFGENMSG_LENGTH,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFNL_SUBSYS_NFTABLES,
  NLM_F_REQUEST,
  NLMSG_HDRLEN,
} from './constants';

// struct nlmsghdr's fields; `type` is `(NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_*`, or NLMSG_ERROR/DONE/NOOP.
export type { NetlinkMessageHeader as NfnlMessageHeader } from '@nodeagent/primitives/netlink';

/** A received message: its header and everything after the nlmsghdr (for nf_tables: nfgenmsg, then attributes). */
export type ReceivedMessage = ReceivedNetlinkMessage;

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
  writeNetlinkHeader(header, 0, length, type, flags, seq, 0);
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
