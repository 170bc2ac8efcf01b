/**
 * Numbers from the kernel UAPI header `linux/ip_vs.h` (and the generic netlink controller,
 * `linux/genetlink.h`). Values are ABI: never renumber.
 */
import {
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
} from '@nodeagent/primitives/netlink';

/** The generic-netlink family name the kernel registers for IPVS (resolved to its id at open). */
export const IPVS_GENL_NAME = 'IPVS';
/** The IPVS generic netlink family's version. */
export const IPVS_GENL_VERSION = 1;

/** IPVS generic netlink commands (IPVS_CMD_*). */
export const IpvsCommand = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;

/** Top-level attributes of every IPVS command (IPVS_CMD_ATTR_*). */
export const CmdAttr = {
  SERVICE: 1,
  DEST: 2,
  DAEMON: 3,
  TIMEOUT_TCP: 4,
  TIMEOUT_TCP_FIN: 5,
  TIMEOUT_UDP: 6,
} as const;

/** Attributes nested in CmdAttr.SERVICE (IPVS_SVC_ATTR_*). */
export const SvcAttr = {
  AF: 1,
  PROTOCOL: 2,
  ADDR: 3,
  PORT: 4,
  FWMARK: 5,
  SCHED_NAME: 6,
  FLAGS: 7,
  TIMEOUT: 8,
  NETMASK: 9,
  STATS: 10,
  PE_NAME: 11,
  STATS64: 12,
} as const;

/** Attributes nested in CmdAttr.DEST (IPVS_DEST_ATTR_*). */
export const DestAttr = {
  ADDR: 1,
  PORT: 2,
  FWD_METHOD: 3,
  WEIGHT: 4,
  U_THRESH: 5,
  L_THRESH: 6,
  ACTIVE_CONNS: 7,
  INACT_CONNS: 8,
  PERSIST_CONNS: 9,
  STATS: 10,
  ADDR_FAMILY: 11,
  STATS64: 12,
  TUN_TYPE: 13,
  TUN_PORT: 14,
  TUN_FLAGS: 15,
} as const;

/** Attributes nested in *_ATTR_STATS / *_ATTR_STATS64 (IPVS_STATS_ATTR_*). */
export const StatsAttr = {
  CONNS: 1,
  INPKTS: 2,
  OUTPKTS: 3,
  INBYTES: 4,
  OUTBYTES: 5,
  CPS: 6,
  INPPS: 7,
  OUTPPS: 8,
  INBPS: 9,
  OUTBPS: 10,
  PAD: 11,
} as const;

/** Attributes of the GET_INFO reply (IPVS_INFO_ATTR_*). */
export const InfoAttr = {
  VERSION: 1,
  CONN_TAB_SIZE: 2,
} as const;

/** Service flags (IP_VS_SVC_F_*). SCHED1/SCHED2 mean sh-fallback/sh-port for `sh` (and `mh`). */
export const SvcFlag = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002,
  ONEPACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
} as const;

/** Forwarding methods (IP_VS_CONN_F_* & IP_VS_CONN_F_FWD_MASK). */
export const FwdMethod = {
  MASQ: 0,
  LOCALNODE: 1,
  TUNNEL: 2,
  DROUTE: 3,
  BYPASS: 4,
} as const;
/** The forwarding-method bits of a destination's flags. */
export const FWD_MASK = 0x0007;

/** Tunnel encapsulations (IP_VS_CONN_F_TUNNEL_TYPE_*). */
export const TunnelType = { IPIP: 0, GUE: 1, GRE: 2 } as const;
/** Tunnel flags (IP_VS_TUNNEL_ENCAP_FLAG_*). */
export const TunnelFlag = { NOCSUM: 0, CSUM: 1 << 0, REMCSUM: 1 << 1 } as const;

/** IPPROTO_* */
export const IpProto = { TCP: 6, UDP: 17, SCTP: 132 } as const;
/** AF_* */
export const AddressFamilyNumber = { INET: 2, INET6: 10 } as const;

/** IP_VS_SCHEDNAME_MAXLEN / IP_VS_PENAME_MAXLEN, NUL included. */
export const SCHEDNAME_MAXLEN = 16;
/** The longest persistence engine name, NUL included. */
export const PENAME_MAXLEN = 16;

/** Generic netlink controller (linux/genetlink.h). */
export const GENL_ID_CTRL = 0x10;
/** Generic netlink controller commands (CTRL_CMD_*). */
export const CtrlCommand = { GETFAMILY: 3 } as const;
/** Generic netlink controller attributes (CTRL_ATTR_*). */
export const CtrlAttr = { FAMILY_ID: 1, FAMILY_NAME: 2, VERSION: 3 } as const;

/** Netlink message header flags (linux/netlink.h; the numbers are primitives'). */
export const NlmFlag = {
  REQUEST: NLM_F_REQUEST,
  MULTI: NLM_F_MULTI,
  ACK: NLM_F_ACK,
  DUMP: NLM_F_DUMP,
} as const;
/** Netlink control message types (NLMSG_*; the numbers are primitives'). */
export const NlmType = { NOOP: NLMSG_NOOP, ERROR: NLMSG_ERROR, DONE: NLMSG_DONE } as const;

// The attribute type bits are netlink's own, defined once in primitives; re-exported so
// `constants` keeps listing every number an IPVS message carries.
export { NLA_F_NESTED, NLA_TYPE_MASK } from '@nodeagent/primitives/netlink';
