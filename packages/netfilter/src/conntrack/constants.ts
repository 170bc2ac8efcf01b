// Numbers from the kernel UAPI headers linux/netfilter/nfnetlink.h and
// linux/netfilter/nfnetlink_conntrack.h (ctnetlink). They are ABI: never renumber.

/** NFNL_SUBSYS_CTNETLINK: the conntrack table's nfnetlink subsystem. */
export const NFNL_SUBSYS_CTNETLINK = 1;

/** enum cntl_msg_types (the ones used here). */
export const IpctnlMsg = { CT_NEW: 0, CT_GET: 1, CT_DELETE: 2 } as const;

/** enum ctattr_type (the ones used here). */
export const Cta = { TUPLE_ORIG: 1, TUPLE_REPLY: 2, ID: 12, ZONE: 18, FILTER: 25 } as const;

/** enum ctattr_filter: which fields of CTA_TUPLE_ORIG a dump must match (Linux 5.8+). */
export const CtaFilter = { ORIG_FLAGS: 1 } as const;

/** CTA_FILTER_F_CTA_PROTO_NUM: the dump keeps entries whose original layer-4 protocol is the tuple's. */
export const CTA_FILTER_F_PROTO_NUM = 1 << 3;

/** enum ctattr_tuple. */
export const CtaTuple = { IP: 1, PROTO: 2, ZONE: 3 } as const;

/** enum ctattr_ip. */
export const CtaIp = { V4_SRC: 1, V4_DST: 2, V6_SRC: 3, V6_DST: 4 } as const;

/** enum ctattr_l4proto (the ones used here). */
export const CtaProto = { NUM: 1, SRC_PORT: 2, DST_PORT: 3 } as const;

/** AF_INET / AF_INET6 as nfgenmsg's family. */
export const AF_INET = 2;
export const AF_INET6 = 10;

/** ENOENT: the entry to delete is already gone. */
export const ENOENT = 2;
