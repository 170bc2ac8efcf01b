/** struct nlmsghdr is 16 bytes: u32 len, u16 type, u16 flags, u32 seq, u32 pid (host order). */
export const NLMSG_HDRLEN = 16;

/** A complete netlink message: header + payload, padded to 4 bytes. Pure; used for batched sends. */
export function encodeNetlinkMessage(
  type: number,
  flags: number,
  seq: number,
  port: number,
  payload: Buffer,
): Buffer {
  const len = NLMSG_HDRLEN + payload.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(flags, 6);
  out.writeUInt32LE(seq >>> 0, 8);
  out.writeUInt32LE(port >>> 0, 12);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}
