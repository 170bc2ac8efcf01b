import { NLMSG_HDRLEN, nlaAlign } from './constants';
import { type NetlinkErrorClass, NetlinkFormatError } from './errors';

/** The fields of struct nlmsghdr but its length. */
export interface NetlinkMessageHeader {
  /** Message type: a family's own, or NLMSG_NOOP / NLMSG_ERROR / NLMSG_DONE. */
  type: number;
  /** NLM_F_* bits. */
  flags: number;
  /** Sequence number, echoed in the replies. */
  seq: number;
  /** Port of the sender (0: the kernel). */
  port: number;
}

/** One message split out of a datagram. */
export interface ReceivedNetlinkMessage extends NetlinkMessageHeader {
  /** Everything after the nlmsghdr, padding excluded (a view, no copy). */
  body: Buffer;
}

/** Writes a struct nlmsghdr (host order) of a message `length` bytes long, header included, at `at`. */
export function writeNetlinkHeader(
  out: Buffer,
  at: number,
  length: number,
  type: number,
  flags: number,
  seq: number,
  port: number,
): void {
  out.writeUInt32LE(length, at);
  out.writeUInt16LE(type, at + 4);
  out.writeUInt16LE(flags, at + 6);
  out.writeUInt32LE(seq >>> 0, at + 8);
  out.writeUInt32LE(port >>> 0, at + 12);
}

/** A complete message, header and `payload`, padded to 4 bytes (nlmsg_len excludes the padding). */
export function encodeNetlinkMessage(
  type: number,
  flags: number,
  seq: number,
  port: number,
  payload: Uint8Array,
): Buffer {
  const length = NLMSG_HDRLEN + payload.length;
  const out = Buffer.alloc(nlaAlign(length));
  writeNetlinkHeader(out, 0, length, type, flags, seq, port);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

/**
 * Splits a datagram into its messages (one datagram may carry many). A length below the header
 * or past the end throws `Invalid` naming the offset; trailing bytes too few for a header are ignored.
 */
export function splitNetlinkMessages(
  datagram: Buffer,
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): ReceivedNetlinkMessage[] {
  const messages: ReceivedNetlinkMessage[] = [];
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= datagram.length) {
    const length = datagram.readUInt32LE(offset);
    if (length < NLMSG_HDRLEN || offset + length > datagram.length)
      throw new Invalid(
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
    offset += nlaAlign(length);
  }
  return messages;
}

/** What an NLMSG_ERROR says: the errno (positive; 0 for an ACK) and which message it answers. */
export interface NetlinkErrorReply {
  /** Positive errno, 0 for an ACK. */
  errno: number;
  /** The type of the message it answers. */
  type: number;
  /** The sequence number of the message it answers. */
  seq: number;
}

/** Reads the body of an NLMSG_ERROR (struct nlmsgerr: negative errno, then the request's header). */
export function readNetlinkError(
  body: Buffer,
  Invalid: NetlinkErrorClass = NetlinkFormatError,
): NetlinkErrorReply {
  if (body.length < 4 + NLMSG_HDRLEN)
    throw new Invalid('NLMSG_ERROR', body.length, 'bytes is too short for struct nlmsgerr');
  return {
    errno: -body.readInt32LE(0),
    type: body.readUInt16LE(4 + 4),
    seq: body.readUInt32LE(4 + 8),
  };
}
