// Numbers from the kernel UAPI headers linux/netlink.h, linux/netfilter/nfnetlink.h,
// linux/netfilter/nf_tables.h and linux/netfilter.h. They are ABI: never renumber.

import type { NftFamily } from '../model';

export const NETLINK_NETFILTER = 12;

// Netlink's own header flags, message types and header length, defined once in primitives.
export {
  NLM_F_ACK,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
} from '@nodeagent/primitives/netlink';
/** struct nfgenmsg after the nlmsghdr. */
export const NFGENMSG_LENGTH = 4;

export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 0x10;
export const NFNL_MSG_BATCH_END = 0x11;

/** enum nf_tables_msg_types (the DESTROY* ones since Linux 6.3). */
export const NftMsg = {
  NEWTABLE: 0,
  GETTABLE: 1,
  DELTABLE: 2,
  NEWCHAIN: 3,
  GETCHAIN: 4,
  DELCHAIN: 5,
  NEWRULE: 6,
  GETRULE: 7,
  DELRULE: 8,
  NEWSET: 9,
  GETSET: 10,
  DELSET: 11,
  NEWSETELEM: 12,
  GETSETELEM: 13,
  DELSETELEM: 14,
  NEWGEN: 15,
  GETGEN: 16,
  DESTROYTABLE: 26,
  DESTROYCHAIN: 27,
  DESTROYRULE: 28,
  DESTROYSET: 29,
  DESTROYSETELEM: 30,
} as const;

export const NftaTable = { NAME: 1, FLAGS: 2, USE: 3, HANDLE: 4, USERDATA: 6 } as const;
export const NftaChain = {
  TABLE: 1,
  HANDLE: 2,
  NAME: 3,
  HOOK: 4,
  POLICY: 5,
  USE: 6,
  TYPE: 7,
  COUNTERS: 8,
  FLAGS: 10,
  ID: 11,
  USERDATA: 12,
} as const;
export const NftaHook = { HOOKNUM: 1, PRIORITY: 2, DEV: 3, DEVS: 4 } as const;
export const NftaRule = {
  TABLE: 1,
  CHAIN: 2,
  HANDLE: 3,
  EXPRESSIONS: 4,
  POSITION: 6,
  USERDATA: 7,
  ID: 9,
  POSITION_ID: 10,
  CHAIN_ID: 11,
} as const;
export const NftaSet = {
  TABLE: 1,
  NAME: 2,
  FLAGS: 3,
  KEY_TYPE: 4,
  KEY_LEN: 5,
  DATA_TYPE: 6,
  DATA_LEN: 7,
  POLICY: 8,
  DESC: 9,
  ID: 10,
  TIMEOUT: 11,
  GC_INTERVAL: 12,
  USERDATA: 13,
  HANDLE: 16,
} as const;
export const NftaSetDesc = { SIZE: 1, CONCAT: 2 } as const;
export const NftaSetField = { LEN: 1 } as const;
export const NftaSetElemList = { TABLE: 1, SET: 2, ELEMENTS: 3, SET_ID: 4 } as const;
export const NftaSetElem = {
  KEY: 1,
  DATA: 2,
  FLAGS: 3,
  TIMEOUT: 4,
  EXPIRATION: 5,
  USERDATA: 6,
  KEY_END: 10,
} as const;
export const NftaList = { ELEM: 1 } as const;
export const NftaData = { VALUE: 1, VERDICT: 2 } as const;
export const NftaVerdict = { CODE: 1, CHAIN: 2 } as const;

/** enum nft_set_flags. */
export const NftSetFlag = {
  ANONYMOUS: 0x1,
  CONSTANT: 0x2,
  INTERVAL: 0x4,
  MAP: 0x8,
  TIMEOUT: 0x10,
  EVAL: 0x20,
  OBJECT: 0x40,
  CONCAT: 0x80,
} as const;
export const NFT_SET_ELEM_INTERVAL_END = 0x1;
/** NFTA_SET_DATA_TYPE of verdict maps. */
export const NFT_DATA_VERDICT = 0xffffff00;

/** Verdict codes (NF_DROP/NF_ACCEPT and enum nft_verdicts), as signed 32-bit values. */
export const Verdict = {
  DROP: 0,
  ACCEPT: 1,
  CONTINUE: -1,
  BREAK: -2,
  JUMP: -3,
  GOTO: -4,
  RETURN: -5,
} as const;

/** NFPROTO_* (the nfgenmsg family). */
export const NFPROTO: Readonly<Record<NftFamily, number>> = {
  inet: 1,
  ip: 2,
  arp: 3,
  netdev: 5,
  bridge: 7,
  ip6: 10,
};

export function familyOfNfproto(value: number): NftFamily | undefined {
  for (const [name, number] of Object.entries(NFPROTO)) if (number === value) return name as NftFamily;
  return undefined;
}
