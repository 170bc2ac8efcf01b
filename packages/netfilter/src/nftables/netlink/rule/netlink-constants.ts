// The nf_tables expression attributes (linux/netfilter/nf_tables.h) the rule compiler writes and
// reads, and the kernel's numbering of the enums they carry.

export const NFTA_LIST_ELEM = 1;
export const NFTA_EXPR_NAME = 1;
export const NFTA_EXPR_DATA = 2;

/** Attribute numbers per expression, in the kernel's order. */
export const ATTR = {
  immediate: { dreg: 1, data: 2 },
  bitwise: { sreg: 1, dreg: 2, len: 3, mask: 4, xor: 5 },
  byteorder: { sreg: 1, dreg: 2, op: 3, len: 4, size: 5 },
  cmp: { sreg: 1, op: 2, data: 3 },
  range: { sreg: 1, op: 2, from: 3, to: 4 },
  lookup: { set: 1, sreg: 2, dreg: 3, setId: 4, flags: 5 },
  dynset: { setName: 1, setId: 2, op: 3, sregKey: 4, sregData: 5, timeout: 6 },
  payload: { dreg: 1, base: 2, offset: 3, len: 4 },
  meta: { dreg: 1, key: 2, sreg: 3 },
  ct: { dreg: 1, key: 2, direction: 3, sreg: 4 },
  nat: { type: 1, family: 2, regAddrMin: 3, regAddrMax: 4, regProtoMin: 5, regProtoMax: 6, flags: 7 },
  masq: { flags: 1, regProtoMin: 2, regProtoMax: 3 },
  counter: { bytes: 1, packets: 2 },
  numgen: { dreg: 1, modulus: 2, type: 3, offset: 4 },
  fib: { dreg: 1, result: 2, flags: 3 },
  reject: { type: 1, code: 2 },
  log: { group: 1, prefix: 2, level: 5, flags: 6 },
  limit: { rate: 1, unit: 2, burst: 3, type: 4, flags: 5 },
} as const;

export const PAYLOAD_BASES = ['link', 'network', 'transport', 'inner'] as const;
export const CMP_OPS = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte'] as const;
export const DYNSET_OPS = ['add', 'update', 'delete'] as const;
export const NUMGEN_TYPES = ['inc', 'random'] as const;
export const NAT_TYPES = ['snat', 'dnat'] as const;
export const BYTEORDER_OPS = ['ntoh', 'hton'] as const;

/** NFT_META_* by index (libnftnl's names). */
export const META_KEYS = [
  'len',
  'protocol',
  'priority',
  'mark',
  'iif',
  'oif',
  'iifname',
  'oifname',
  'iiftype',
  'oiftype',
  'skuid',
  'skgid',
  'nftrace',
  'rtclassid',
  'secmark',
  'nfproto',
  'l4proto',
  'bri_iifname',
  'bri_oifname',
  'pkttype',
  'cpu',
  'iifgroup',
  'oifgroup',
  'cgroup',
  'prandom',
  'secpath',
  'iifkind',
  'oifkind',
  'bri_iifpvid',
  'bri_iifvproto',
  'time',
  'day',
  'hour',
  'sdif',
  'sdifname',
] as const;

/** NFT_CT_* by index (libnftnl's names). */
export const CT_KEYS = [
  'state',
  'direction',
  'status',
  'mark',
  'secmark',
  'expiration',
  'helper',
  'l3protocol',
  'src',
  'dst',
  'protocol',
  'proto_src',
  'proto_dst',
  'label',
  'packets',
  'bytes',
  'avgpkt',
  'zone',
  'event',
  'src_ip',
  'dst_ip',
  'src_ip6',
  'dst_ip6',
  'id',
] as const;

/** NFTA_FIB_F_* in libnftnl's print order. */
export const FIB_FLAGS: readonly (readonly [number, string])[] = [
  [1, 'saddr'],
  [2, 'daddr'],
  [4, 'mark'],
  [8, 'iif'],
  [16, 'oif'],
];
export const FIB_F_PRESENT = 32;
export const FIB_RESULTS: Readonly<Record<number, string>> = { 1: 'oif', 2: 'oifname', 3: 'type' };

export const LIMIT_UNITS: Readonly<Record<string, string>> = {
  '1': 'second',
  '60': 'minute',
  '3600': 'hour',
  '86400': 'day',
  '604800': 'week',
};
