// The numbers of the netlink wire format every netlink family shares (linux/netlink.h).

/** struct nlattr's header: u16 length (header included), u16 type. */
export const NLA_HEADER_LENGTH = 4;
/** Type bit: the payload is itself a run of attributes. */
export const NLA_F_NESTED = 0x8000;
/** Type bit: the payload is in network byte order. */
export const NLA_F_NET_BYTEORDER = 0x4000;
/** The type without the NLA_F_NESTED and NLA_F_NET_BYTEORDER bits. */
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;
/** nla_len is a u16: no attribute, header included, can be longer. */
export const NLA_LENGTH_MAX = 0xffff;

/** struct nlmsghdr is 16 bytes: u32 length, u16 type, u16 flags, u32 seq, u32 port (host order). */
export const NLMSG_HDRLEN = 16;
/** Header flag: a request (every message to the kernel). */
export const NLM_F_REQUEST = 0x1;
/** Header flag: one part of a multi-part reply. */
export const NLM_F_MULTI = 0x2;
/** Header flag: answer with an ACK (an NLMSG_ERROR with errno 0) on success. */
export const NLM_F_ACK = 0x4;
/** Header flags of a GET: dump every object (NLM_F_ROOT | NLM_F_MATCH). */
export const NLM_F_DUMP = 0x300;
/** Header flag of a NEW: replace an existing object. */
export const NLM_F_REPLACE = 0x100;
/** Header flag of a NEW: fail if the object exists. */
export const NLM_F_EXCL = 0x200;
/** Header flag of a NEW: create the object if it does not exist. */
export const NLM_F_CREATE = 0x400;
/** Header flag of a NEW: add to the end of a list. */
export const NLM_F_APPEND = 0x800;

/** Message type: nothing (a barrier that only asks for an ACK). */
export const NLMSG_NOOP = 1;
/** Message type: an error or, with errno 0, an ACK (struct nlmsgerr). */
export const NLMSG_ERROR = 2;
/** Message type: the end of a multi-part dump. */
export const NLMSG_DONE = 3;

/** Rounds up to netlink's 4-byte alignment (NLA_ALIGN, NLMSG_ALIGN). */
export function nlaAlign(length: number): number {
  return (length + 3) & ~3;
}
